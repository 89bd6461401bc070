import DepotStorage
import PostgresNIO

/// Cluster mode's commit sequence: blocks of `ClusterSchema.sequenceBlockSize` numbers from the
/// PostgreSQL sequence `depot_sequence` (migration 4), taken with `nextval`, which no transaction
/// waits on and no rollback gives back. The committer asks for a block inside its write
/// transaction, after the transaction's first statement took its snapshot: a batch of another
/// node that committed before that snapshot took its numbers before too, so they are lower; one
/// that commits after it and wrote a row this batch writes (the same object key) makes one of
/// the two fail with a serialization failure, and the re-run takes a new, higher block. So the
/// record the index keeps for a key is always the one with the highest number, as a rebuild
/// from the log records ("newest per key wins") would choose.
extension PostgresTransaction: SharedSequenceSource {
    func reserveSequenceBlock() throws -> Range<UInt64> {
        guard !readOnly else { throw PostgresIndexError.invalid("sequence numbers taken in a read transaction") }
        let rows = try run(
            "SELECT nextval('\(ClusterSchema.sequenceName)')", [], operation: "taking sequence numbers")
        guard let row = rows.first else { throw PostgresIndexError.invalid("nextval answered no row") }
        let start = try row.makeRandomAccess()[0].decode(Int64.self)
        guard start > 0 else { throw PostgresIndexError.invalid("\(ClusterSchema.sequenceName) answered \(start)") }
        return UInt64(start)..<UInt64(start) + ClusterSchema.sequenceBlockSize
    }
}
