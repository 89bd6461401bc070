/// Where a `PackChunkStore` keeps its packs and its read cache, and the bounds it works within.
///
/// Sizing and sealing (README "Chunks in pack objects"): a pack is sealed and uploaded when it
/// reaches `packTargetSize` (32 MiB by default) or when the engine syncs before committing an
/// index batch, whichever comes first. 32 MiB keeps a recording site's request count low (one
/// PUT per 32 MiB at steady ingest, a few per second at 100 MB/s) while a pack still uploads in
/// seconds and a crash loses at most the unacknowledged tail that sits in memory. Sealing at
/// each sync is what makes "acknowledged means durable in the store" hold; under light load it
/// makes small packs, which compaction merges later (it repacks packs whose live ratio is low,
/// and a small pack is mostly overhead).
public struct PackStoreSettings: Sendable {
    /// The S3-compatible endpoint, `http(s)://host[:port]`; requests are path-style.
    public var endpoint: String
    public var bucket: String
    public var region: String
    public var accessKey: String
    public var secretKey: String
    /// Put before `packs/` in every object key (empty, or ending in `/`).
    public var prefix: String
    /// This node's name, sent with each pack as `x-amz-meta-depot-node` (operators read it;
    /// the key is built from the writer id, see PackId).
    public var node: String

    /// The read cache: a directory and the most bytes of pack blocks it may hold.
    public var cachePath: String
    public var cacheSize: Int
    /// Packs are cached and fetched in blocks of this many bytes (one Range GET each). 1 MiB
    /// is the chunker's average chunk: a chunk read costs one or two GETs, and a block seldom
    /// carries many bytes nobody asked for.
    public var cacheBlockSize: Int = 1 << 20
    /// Whether each pack this node stores is also kept in the read cache (write-through), so
    /// recordings read soon after they arrive do not go back to the store. Off: the cache holds
    /// only what was read.
    public var cacheWrites: Bool = true

    public var packTargetSize: Int = 32 << 20
    /// Bytes of packs held in memory (the open one plus sealed ones not yet durable). An append
    /// that would pass it waits for uploads to finish, at most `appendWaitSeconds`.
    public var maxBufferedBytes: Int = 128 << 20
    /// Pack uploads running at once; a sealed pack beyond that waits for a slot.
    public var maxUploadsInFlight: Int = 2

    /// One request's bound (connect, send, answer), in seconds.
    public var requestTimeoutSeconds: Double = 60
    /// A refused connection is retried inside the HTTP client until this passes, so it is what
    /// one attempt at an unreachable store costs: short, since the commit batch waits on it.
    public var connectTimeoutSeconds: Double = 2
    /// Attempts per request on a connection failure, a timeout or a 5xx/429 answer, with
    /// exponential backoff from `retryBaseDelaySeconds` (capped at 2 s) between them: a sync
    /// against a store that refuses connections fails in about 7 s.
    public var attempts: Int = 3
    public var retryBaseDelaySeconds: Double = 0.2
    /// The longest `syncDirty()` waits for the packs it must make durable before it fails.
    public var syncTimeoutSeconds: Double = 120
    /// The longest an append waits for room in memory before it fails.
    public var appendWaitSeconds: Double = 60

    public init(
        endpoint: String, bucket: String, region: String = "us-east-1", accessKey: String, secretKey: String,
        prefix: String = "", node: String, cachePath: String, cacheSize: Int
    ) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.region = region
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.prefix = prefix
        self.node = node
        self.cachePath = cachePath
        self.cacheSize = cacheSize
    }
}
