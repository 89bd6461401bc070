import Foundation
import Testing

@testable import DepotS3

/// Replays every seed of the bucket-document fuzz targets (Fuzz/Corpus/<target>/) through the
/// same checks the fuzzer makes (S3DocumentFuzzEntryPoints), so `make test` holds the seeds to
/// them without running the fuzzer: each is accepted or refused with a proper S3 code, and what
/// Depot writes back reads back the same.
struct DocumentCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus")

    static func seeds(_ document: S3DocumentFuzzEntryPoints.Document) throws -> [(name: String, bytes: [UInt8])] {
        let folder = corpus.appendingPathComponent(document.rawValue)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        return try names.map { ($0, Array(try Data(contentsOf: folder.appendingPathComponent($0)))) }
    }

    /// A seed named `refused-…` is a document Depot refuses (S3 does too, or it asks for what Depot
    /// does not do: 501); every other seed is one a client really sends, which must be accepted.
    @Test(arguments: S3DocumentFuzzEntryPoints.Document.allCases)
    func everySeedKeepsTheProperties(_ document: S3DocumentFuzzEntryPoints.Document) throws {
        let seeds = try Self.seeds(document)
        #expect(seeds.contains { !$0.name.hasPrefix("refused-") }, "Fuzz/Corpus/\(document.rawValue) has no accepted seed")
        for seed in seeds {
            let verdict = S3DocumentFuzzEntryPoints.check(document, seed.bytes)
            #expect(verdict.violation == nil, "\(document.rawValue)/\(seed.name): \(verdict.violation ?? "")")
            let refused = seed.name.hasPrefix("refused-")
            #expect(
                (verdict.refusal != nil) == refused,
                "\(document.rawValue)/\(seed.name): \(verdict.refusal.map { "refused with \($0)" } ?? "accepted")")
        }
    }
}
