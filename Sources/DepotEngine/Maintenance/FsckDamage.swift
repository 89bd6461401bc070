import DepotHashing
import DepotStorage

/// Damaged stretches fsck found in the segments (SegmentDamage.swift), and the index entries
/// that point into them: so `depot fsck` names the objects a damaged record costs, and whether
/// only a rebuild of the index would lose them (their commit record) or a GET already does (a chunk).
struct FsckDamage {
    private(set) var stretches: [SegmentDamage] = []
    /// Bytes after a segment's last intact record: a torn tail, harmless unless the index points there.
    private var tails: [SegmentDamage] = []
    /// Chunks whose indexed record lies in a damaged stretch.
    private var chunks: [[UInt8]: SegmentDamage] = [:]

    var isEmpty: Bool { stretches.isEmpty && tails.isEmpty }

    mutating func note(_ summary: SegmentScanSummary, of segment: UInt32) {
        stretches += summary.damage
        if summary.trailingBytes > 0 {
            tails.append(
                SegmentDamage(segment: segment, offset: summary.validEnd, length: summary.trailingBytes, claimed: nil))
        }
    }

    func covering(_ location: RecordLocation) -> SegmentDamage? {
        stretches.first { $0.covers(location) } ?? tails.first { $0.covers(location) }
    }

    /// Finds the chunks whose indexed record lies in damaged bytes (one pass over the chunk table,
    /// made only when there is damage).
    mutating func findChunks(txn: borrowing Transaction, table: Table) throws {
        guard !isEmpty else { return }
        var found: [[UInt8]: SegmentDamage] = [:]
        try txn.scan(table) { key, value in
            if let damage = covering(try ChunkEntry.decode(Array(value)).location) { found[Array(key)] = damage }
            return true
        }
        chunks = found
    }

    /// What the damage costs one object (or version) of the index.
    func problems(of name: String, _ record: ObjectRecord) -> [String] {
        guard !isEmpty else { return [] }
        var problems: [String] = []
        if let hash = record.heldChunks.first(where: { chunks[$0.hash] != nil })?.hash, let damage = chunks[hash] {
            problems.append(
                "object \(name): its chunk \(Hex.encode(hash)) lies in damaged bytes of segment \(damage.segment) "
                    + "at offset \(damage.offset); its bytes cannot be read back")
        }
        if let damage = covering(record.commitLocation) {
            problems.append(
                "object \(name): its commit record \(record.commitLocation) lies in damaged bytes of segment "
                    + "\(damage.segment) at offset \(damage.offset); an index rebuild would lose it")
        }
        return problems
    }
}
