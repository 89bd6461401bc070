import DepotStorage
import Synchronization

/// Streams a byte range of an evicted object from a tier that holds it (installed by the
/// tiering part). Pieces arrive in order; the stream ends after the last byte of the range. It
/// throws at once when no configured tier holds a confirmed copy, so a reader can refuse the
/// request before it answers.
public typealias ReadThrough =
    @Sendable (_ bucket: String, _ key: String, _ record: ObjectRecord, _ range: Range<UInt64>) throws
    -> AsyncThrowingStream<[UInt8], Error>

/// Whether a configured tier holds a confirmed copy of this version under its own key
/// (`VersionCopyKey`), so an evicted older version can be read through (installed by the tiering
/// part; without it such a read answers InvalidObjectState).
public typealias VersionCopyCheck = @Sendable (_ bucket: String, _ key: String, _ record: ObjectRecord) -> Bool

final class ReadThroughBox: Sendable {
    let source = Mutex<FunctionBox<ReadThrough>?>(nil)
    let versionCopies = Mutex<FunctionBox<VersionCopyCheck>?>(nil)
}

extension Engine {
    public func setReadThrough(_ source: ReadThrough?) { readThroughBox.source.withLock { $0 = source.map(FunctionBox.init) } }

    public func setVersionCopyCheck(_ check: VersionCopyCheck?) {
        readThroughBox.versionCopies.withLock { $0 = check.map(FunctionBox.init) }
    }

    /// Whether an evicted older version's bytes can be read from a tier's copy of that version.
    func tierHoldsVersionCopy(bucket: String, key: String, record: ObjectRecord) -> Bool {
        guard let check = readThroughBox.versionCopies.withLock({ $0 })?.function else { return false }
        return check(bucket, key, record)
    }

    /// Evicts the local copy of an object version once every tier in `confirmedOn` holds it:
    /// its chunk references are released (compaction reclaims the bytes) and reads go to a tier.
    /// Returns false, changing nothing, when the version changed or a copy is not confirmed.
    @discardableResult
    public func evict(bucket: String, key: String, created: Int64, confirmedOn tiers: [String]) async throws -> Bool {
        let engine = self
        do {
            return try await committer.submit { txn, context in
                guard var record = try txn.object(engine.objects, bucket: bucket, key: key) else { return false }
                // An SSE-C object stays local: reading it back from a tier would need the
                // client's key, which a read-through cannot carry (its tier copy is a backup).
                guard record.created == created, record.localState == .present, !tiers.isEmpty,
                    !CustomerKeyEncryption.isCustomerKey(record.encryption),
                    tiers.allSatisfy({ tier in record.replicas.contains { $0.tier == tier && $0.state == .completed } })
                else { return false }
                let held = record.heldChunks
                record.localState = .evicted
                let (location, sequence) = try context.log(.objectCommit(bucket: bucket, key: key, record: record))
                try engine.recordEvent(
                    EventRecord(
                        kind: .transitioned, operation: "Transition", bucket: bucket, key: key, size: record.size,
                        etag: record.etag, userMetadata: record.userMetadata, principal: record.owner, source: "depot",
                        tier: tiers.joined(separator: ",")),
                    sequence: sequence, txn: txn, context: context)
                try engine.dropReferences(held, txn: txn, context: context)
                record.commitLocation = location
                record.sequence = sequence
                try txn.putObject(engine.objects, bucket: bucket, key: key, record)
                return true
            }
        } catch { throw EngineError.wrap(error) }
    }
}
