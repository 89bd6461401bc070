import DepotStorage
import Testing

/// LiveUnit: which segment or pack a record's live bytes count in, and the key of its row.
struct LiveUnitTests {
    @Test func aSegmentKeepsItsFourByteKeyAndAPackTakesEightWithItsWriter() {
        #expect(LiveUnit(segment: 7).indexKey == [0, 0, 0, 7])
        let pack = LiveUnit(writer: 0x0102_0304, sequence: 7)
        #expect(pack.indexKey == [1, 2, 3, 4, 0, 0, 0, 7])
        #expect(LiveUnit(indexKey: pack.indexKey) == pack)
        #expect(LiveUnit(indexKey: [0, 0, 0, 7]) == LiveUnit(segment: 7))
        #expect(LiveUnit(indexKey: [1, 2, 3]) == nil)
        #expect(LiveUnit(indexKey: [0x52] + pack.indexKey) == nil)
    }

    @Test func twoWritersPacksOfOneSequenceAreTwoUnits() {
        let first = LiveUnit(RecordLocation(segment: 3, offset: UInt64(0xAAAA_0001) << 32 | 4096, length: 10))
        let second = LiveUnit(RecordLocation(segment: 3, offset: UInt64(0xBBBB_0002) << 32 | 4096, length: 10))
        #expect(first != second)
        #expect(first.indexKey != second.indexKey)
        #expect(first.description == "aaaa0001/00000003")
        #expect(
            first.location(offset: 4096, length: 10)
                == RecordLocation(segment: 3, offset: UInt64(0xAAAA_0001) << 32 | 4096, length: 10))
        #expect(LiveUnit(segment: 3).isPack == false && first.isPack)
    }
}
