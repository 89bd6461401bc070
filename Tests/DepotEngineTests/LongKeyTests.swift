import DepotHashing
import DepotStorage
import Glibc
import Testing

@testable import DepotEngine
import TestRandomness

/// Keys up to S3's 1,024 bytes in a bucket with the longest name (ObjectKeyLayout): the index
/// keys fit LMDB, keys that fitted before keep their old index key, point operations find long
/// keys, and listings keep S3's order (UTF-8 bytes of the full keys) across blocks of long keys.
struct LongKeyTests {
    static let bucket = String(repeating: "b", count: 63)

    static func less(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }

    @Test func keysThatFitKeepTheirIndexKeyAndLongerOnesAreHashedTo511Bytes() {
        let layout = ObjectKeyLayout(bucket: Self.bucket)
        #expect(layout.room == 511 - 64)
        #expect(layout.keptLength == layout.room - 33)
        for length in [1, 100, layout.keptLength, layout.keptLength + 1, layout.room] {
            let key = String(repeating: "k", count: length)
            let (bytes, isHashed) = layout.indexKey(key)
            #expect(bytes == Array(Self.bucket.utf8) + [0] + Array(key.utf8))
            #expect(!isHashed)
        }
        var random = SplitMix64(seed: 7)
        var seen = Set<[UInt8]>()
        for length in (layout.room + 1)...1024 {
            let key =
                String(repeating: "k", count: 414)
                + String(decoding: random.bytes(length - 414).map { 0x21 + $0 % 90 }, as: UTF8.self)
            let (bytes, isHashed) = layout.indexKey(key)
            #expect(isHashed)
            #expect(bytes.count == ObjectKeyLayout.indexKeyLimit)
            #expect(layout.isHashed(bytes[layout.bucketPrefix.count...]))
            #expect(seen.insert(bytes).inserted)
        }
    }

    @Test func longKeysArePointReadCopiedTaggedAndDeleted() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket(Self.bucket, owner: "tester")
        let shared = String(repeating: "s", count: 600)
        let first = shared + String(repeating: "1", count: 424)
        let second = shared + String(repeating: "2", count: 424)
        let multiByte = String(repeating: "é", count: 512)
        try await engine.put(Self.bucket, first, [1])
        try await engine.put(Self.bucket, second, [2, 2])
        try await engine.put(Self.bucket, multiByte, [3, 3, 3])
        #expect(try engine.get(Self.bucket, first) == [1])
        #expect(try engine.get(Self.bucket, second) == [2, 2])
        #expect(try engine.headObject(bucket: Self.bucket, key: multiByte)?.size == 3)
        // A key sharing the kept bytes and the length, never stored, is not found.
        #expect(try engine.headObject(bucket: Self.bucket, key: shared + String(repeating: "3", count: 424)) == nil)
        _ = try await engine.copyObject(from: (Self.bucket, first), to: (Self.bucket, multiByte)) { $0 }
        #expect(try engine.get(Self.bucket, multiByte) == [1])
        try await engine.updateObject(bucket: Self.bucket, key: second) { $0.tags = [("t", "v")] }
        #expect(try engine.headObject(bucket: Self.bucket, key: second)?.tags.first?.1 == "v")
        #expect(try await engine.deleteObject(bucket: Self.bucket, key: first))
        #expect(try engine.get(Self.bucket, first) == nil)
        #expect(try engine.get(Self.bucket, second) == [2, 2])
        #expect(try engine.listObjects(bucket: Self.bucket).objects.map(\.key) == [second, multiByte])
        let report = try engine.fsck()
        #expect(report.isClean, "\(report.problems)")
        #expect(try engine.dump().contains { $0.hasPrefix("object \(Self.bucket)/\(second) ") })
    }

    /// Keys around every boundary of the layout, sharing long prefixes, with multi-byte
    /// characters and delimiters; every listing is compared with S3's order worked out here.
    @Test func listingsFollowTheFullKeysByteOrder() async throws {
        let dir = TemporaryDirectory()
        let (sorted, before) = try await listEverySortOfPage(dir)
        // The index rebuilt from the segments is the same and lists the same.
        _ = system("rm -rf '\(testConfiguration(dir.path).indexDirectory)'")
        let report = try Engine.rebuildIndex(configuration: testConfiguration(dir.path))
        #expect(report.problems.isEmpty)
        let rebuilt = try Engine(configuration: testConfiguration(dir.path))
        defer { rebuilt.shutdown() }
        #expect(try rebuilt.dump() == before)
        #expect(try rebuilt.listObjects(bucket: Self.bucket).objects.map(\.key) == sorted)
        #expect(try rebuilt.fsck().isClean)
        for key in sorted.prefix(20) { #expect(try rebuilt.get(Self.bucket, key) == [1]) }
    }

    /// Stores the keys, checks the listings, and returns the keys in order and the index dump.
    private func listEverySortOfPage(_ dir: TemporaryDirectory) async throws -> ([String], [String]) {
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket(Self.bucket, owner: "tester")
        let layout = ObjectKeyLayout(bucket: Self.bucket)
        var random = SplitMix64(seed: 42)
        func text(_ count: Int) -> String {
            let alphabet = Array("ab/é日z0".unicodeScalars)
            var s = ""
            while s.utf8.count < count { s.unicodeScalars.append(alphabet[Int(random.next() % UInt64(alphabet.count))]) }
            while s.utf8.count > count { s.removeLast() }
            return s
        }
        let shared600 = "cam/" + String(repeating: "x", count: 596)
        let kept = String(repeating: "g", count: layout.keptLength)
        var keys = Set(["a", "cam/1", "z", kept, String(kept.dropLast()), shared600])
        for _ in 0..<40 { keys.insert(shared600 + text(Int(1 + random.next() % 424))) }
        for _ in 0..<30 { keys.insert(kept + text(Int(1 + random.next() % 610))) }
        for length in [layout.room - 1, layout.room, layout.room + 1, 1024] {
            for _ in 0..<3 { keys.insert(kept + text(length - kept.utf8.count)) }
            keys.insert(String(repeating: "é", count: 205) + text(length - 410))
        }
        for _ in 0..<15 { keys.insert(text(Int(1 + random.next() % 1024))) }
        for key in keys { try await engine.put(Self.bucket, key, [1]) }
        let sorted = keys.sorted(by: Self.less)

        /// What S3 lists: keys under the prefix after the marker, rolled up at the delimiter.
        func expected(prefix: String, delimiter: String, startAfter: String) -> [String] {
            var entries: [String] = []
            for key in sorted where key.utf8.starts(with: prefix.utf8) {
                let keyBytes = Array(key.utf8)
                if let cut = ListingWalk.find(Array(delimiter.utf8), in: keyBytes, from: prefix.utf8.count) {
                    let common = String(decoding: keyBytes[0..<cut + delimiter.utf8.count], as: UTF8.self)
                    if Self.less(startAfter, common) && entries.last != common { entries.append(common) }
                } else if Self.less(startAfter, key) {
                    entries.append(key)
                }
            }
            return entries
        }

        func listAll(prefix: String, delimiter: String, startAfter: String, maxKeys: Int) throws -> [String] {
            var out: [String] = []
            var after = startAfter
            for _ in 0...keys.count {
                let page = try engine.listObjects(
                    bucket: Self.bucket, prefix: prefix, delimiter: delimiter, startAfter: after, maxKeys: maxKeys)
                let entries = (page.objects.map(\.key) + page.commonPrefixes).sorted(by: Self.less)
                #expect(entries.count <= maxKeys)
                out += entries
                guard page.isTruncated else { return out }
                #expect(entries.count == maxKeys)
                after = try #require(page.lastReturned)
            }
            Issue.record("listing never ended")
            return out
        }

        #expect(try engine.listObjects(bucket: Self.bucket).objects.map(\.key) == sorted)
        let prefixes = [
            "", "cam/", String(shared600.prefix(500)), shared600, shared600 + "a", kept, String(kept.prefix(200)), kept + "a",
            String(repeating: "é", count: 205), String(repeating: "é", count: 600),
        ]
        for prefix in prefixes {
            for delimiter in ["", "/", "é"] {
                for startAfter in ["", sorted[sorted.count / 2], sorted[sorted.count / 3] + "a"] {
                    let want = expected(prefix: prefix, delimiter: delimiter, startAfter: startAfter)
                    // Pages of one (the slowest walk) for one delimiter, larger ones for the rest.
                    for maxKeys in [startAfter.isEmpty ? (delimiter == "/" ? 1 : 3) : 7, 1000] {
                        let got = try listAll(prefix: prefix, delimiter: delimiter, startAfter: startAfter, maxKeys: maxKeys)
                        #expect(
                            got == want,
                            "prefix \(prefix.utf8.count) bytes, delimiter '\(delimiter)', after \(startAfter.utf8.count) bytes, max \(maxKeys)"
                        )
                    }
                }
            }
        }
        return (sorted, try engine.dump())
    }
}
