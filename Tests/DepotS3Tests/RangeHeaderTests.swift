import DepotObjectBody
import Testing

@testable import DepotS3

/// The `Range` header of S3 GET and HEAD (and of the Vault blob, which reads it through the same
/// ByteRangeRequest): RFC 9110 with S3's choices, for an object of 100 bytes unless said.
struct RangeHeaderTests {
    enum Outcome: Equatable {
        case whole
        case bytes(Range<UInt64>)
        case refused(String)
    }

    /// The range to send, the whole object, or the S3 error code.
    func read(_ header: String, size: UInt64 = 100) -> Outcome {
        do {
            return try parseRange(header, size: size).map { .bytes($0) } ?? .whole
        } catch let error as S3Error {
            return .refused(error.code)
        } catch {
            return .refused("\(error)")
        }
    }

    @Test func firstLastAndOpenRanges() {
        #expect(read("bytes=0-9") == .bytes(0..<10))
        #expect(read("bytes=99-99") == .bytes(99..<100))
        #expect(read("bytes=90-") == .bytes(90..<100))
        #expect(read("bytes=0-") == .bytes(0..<100))
        // A last position past the end is clamped to the last byte.
        #expect(read("bytes=95-200") == .bytes(95..<100))
        #expect(read("bytes=0-99999999999999999999") == .bytes(0..<100))
    }

    @Test func suffixRanges() {
        #expect(read("bytes=-10") == .bytes(90..<100))
        #expect(read("bytes=-100") == .bytes(0..<100))
        // Larger than the object: all of it, as a 206.
        #expect(read("bytes=-1000") == .bytes(0..<100))
        #expect(read("bytes=-99999999999999999999") == .bytes(0..<100))
        #expect(read("bytes=-1", size: 1) == .bytes(0..<1))
    }

    @Test func rangesPastTheEndAre416() {
        #expect(read("bytes=100-") == .refused("InvalidRange"))
        #expect(read("bytes=100-200") == .refused("InvalidRange"))
        #expect(read("bytes=99999999999999999999-") == .refused("InvalidRange"))
        #expect(read("bytes=-0") == .refused("InvalidRange"))
        // An empty object has no byte any range could name.
        for header in ["bytes=0-", "bytes=0-0", "bytes=-5", "bytes=-1"] {
            #expect(read(header, size: 0) == .refused("InvalidRange"), "\(header)")
        }
    }

    @Test func severalRangesAreIgnoredForTheWholeObject() {
        // S3 serves no multipart/byteranges: the whole object, 200.
        #expect(read("bytes=0-1,5-6") == .whole)
        #expect(read("bytes=0-1, -5") == .whole)
        #expect(read("bytes=200-300,0-1") == .whole)
    }

    @Test func garbageIsIgnored() {
        for header in [
            "", "bytes", "bytes=", "bytes=-", "bytes=5-3", "bytes=abc-", "bytes=0-abc", "bytes=+1-2", "bytes=1-+2",
            "bytes=0x1-2", "bytes=1.5-2", "bytes=1-2-3", "items=0-1", "bytes 0-1", "Bytes=0-1",
            "bytes=--5",
        ] {
            #expect(read(header) == .whole, "\(header)")
        }
    }

    @Test func spacesAroundPositionsAreAllowed() {
        #expect(read(" bytes=0-1") == .bytes(0..<2))
        #expect(read("bytes= 0 - 1 ") == .bytes(0..<2))
        #expect(read("bytes=\t-3") == .bytes(97..<100))
    }

    @Test func theSharedParserAndItsContentRange() {
        #expect(ByteRangeRequest(header: nil, size: 10) == .whole)
        #expect(ByteRangeRequest(header: "bytes=2-", size: 10) == .partial(2..<10))
        #expect(ByteRangeRequest(header: "bytes=-3", size: 0) == .unsatisfiable)
        #expect(ByteRangeRequest.contentRange(2..<10, size: 10) == "bytes 2-9/10")
        #expect(ByteRangeRequest.contentRange(0..<1, size: 1) == "bytes 0-0/1")
        #expect(ByteRangeRequest.contentRange(0..<0, size: 0) == "bytes */0")
    }
}
