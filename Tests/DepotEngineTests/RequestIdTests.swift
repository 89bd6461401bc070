import Testing

@testable import DepotEngine

/// Request ids (RequestContext.makeId): made from a counter by a bijective mix, so within one
/// process none repeats, and they keep S3's look (16 upper-case hex digits).
struct RequestIdTests {
    @Test func idsAreSixteenUpperCaseHexDigitsAndNeverRepeat() {
        var seen = Set<String>()
        for _ in 0..<50_000 {
            let id = RequestContext.makeId()
            #expect(id.utf8.count == 16)
            #expect(id.utf8.allSatisfy { (48...57).contains($0) || (65...70).contains($0) })
            seen.insert(id)
        }
        #expect(seen.count == 50_000)
    }

    @Test func consecutiveIdsDoNotReadAsASequence() {
        let a = UInt64(RequestContext.makeId(), radix: 16)!
        let b = UInt64(RequestContext.makeId(), radix: 16)!
        // The mix spreads a step of one over the whole word.
        #expect((a ^ b).nonzeroBitCount > 8)
    }
}
