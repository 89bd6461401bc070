import DepotStorage

/// The index's tables: the one list of them. Every lookup goes through a case
/// (`indexStore.table(.tasks)`), so a misspelt table is a compile error and a new table is
/// added here, with its rebuild fate decided (`rebuildFate`, an exhaustive switch;
/// IndexTableTests checks that the engine and a rebuilt index open exactly these tables).
/// The raw values are the table names in every index store (LMDB's database names, the
/// PostgreSQL index's tables) and in `keyedItem` log records: never rename one.
///
/// README "LMDB tables" describes the same fates for operators.
public enum IndexTable: String, CaseIterable, Sendable {
    /// Counters and markers, each under its own key: the commit sequence (`Tables.sequenceKey`;
    /// cluster mode takes it from PostgreSQL's `depot_sequence` instead, `SharedSequenceSource`),
    /// the Object Lock clock (cluster mode: one per node, the latest counts), the encryption
    /// domains' wrapped data keys, one-time markers (usage counted, keyed items logged).
    /// Rebuild: recomputed, domains restored from their records.
    case meta
    /// `BucketRecord` by bucket name, with its named documents. Rebuild: restored from the
    /// bucketCreate/bucketDelete log records.
    case buckets
    /// The current `ObjectRecord` per key (keys: ObjectKeyLayout). Rebuild: restored from the
    /// objectCommit/objectDelete records, newest per key wins.
    case objects
    /// Every version's `ObjectRecord` of a versioned bucket (keys: VersionKey). Rebuild:
    /// restored like objects, plus versionDelete records.
    case versions
    /// `ChunkEntry` (location, reference count) by chunk hash. Rebuild: recounted from the
    /// surviving manifests and the chunk records.
    case chunks
    /// Live bytes (u64) by segment id (`Tables.segmentKey`). Rebuild: recounted like chunks.
    case segments
    /// `UploadRecord` of each multipart or tus upload in progress. Rebuild: lost (working state).
    case uploads
    /// `PartRecord` by upload and part number (`Tables.partKey`). Rebuild: lost with its upload.
    case parts
    /// `CompletedUploadRecord` of recently completed uploads (a retried Complete answers the
    /// same). Rebuild: lost (working state).
    case completedUploads
    /// `TierTask` by due time and id: pending tier copies and transitions. Rebuild: working
    /// state no log record carries; copies the restored records show PENDING are queued again.
    case tasks
    /// `EventRecord` by sequence: events not yet delivered to every sink. Rebuild: lost.
    case outbox
    /// Stored accounts by access key, sealed. Rebuild: restored from `keyedItem` records
    /// (`Tables.logged`).
    case accounts
    /// `DeviceRecord` (camera heartbeats) by device id. Rebuild: lost; each device comes back
    /// with its next heartbeat.
    case devices
    /// Admin-made documents by `kind/name` (tiers, policies, replication jobs) and the event
    /// sinks' delivery cursors (`cursor/<sink>`). Rebuild: documents restored from `keyedItem`
    /// records; cursors are not logged (they go with the outbox).
    case settings
    /// `StorageUsage` per account; in cluster mode also one row of signed changes per account and
    /// node (`UsageRows`), so no row is written by every node. Rebuild: counted again from the
    /// objects at the next start.
    case usage

    /// What `fsck --rebuild-index` does with a table's contents.
    public enum RebuildFate: Sendable {
        /// Given back from the segments' log records.
        case restoredFromLog
        /// Recomputed from the restored records (counts, references, sequence).
        case recounted
        /// Working state that no record carries: lost, or re-derived where said.
        case workingState
    }

    /// The one decision per table; README "LMDB tables" says the same in prose.
    public var rebuildFate: RebuildFate {
        switch self {
        case .buckets, .objects, .versions, .accounts, .settings: return .restoredFromLog
        case .meta, .chunks, .segments, .usage: return .recounted
        case .uploads, .parts, .completedUploads, .tasks, .outbox, .devices: return .workingState
        }
    }

    /// Whether the table's items are logged as `keyedItem` records (see `Tables.logged`).
    var isKeyedItemLogged: Bool { self == .accounts || self == .settings }
}

extension IndexStore {
    /// The handle of one of the index's tables (in any index store: LMDB, memory, PostgreSQL).
    func table(_ table: IndexTable) -> Table { self.table(table.rawValue) }
}
