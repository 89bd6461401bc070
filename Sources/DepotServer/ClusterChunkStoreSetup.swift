import DepotConfig
import DepotEngine
import DepotPackStore
import Logging

extension ClusterSettings {
    /// The pack store's settings from `cluster.chunks` and `cluster.cache`; nil without
    /// `cluster.chunks` (the chunks stay in the local segments). Without `cluster.cache` the
    /// read cache is `<data>/chunk-cache`, `ClusterChunkCache.defaultSize` bytes.
    func packStoreSettings(dataDirectory: String) -> PackStoreSettings? {
        guard let chunks else { return nil }
        let cache = self.cache ?? ClusterChunkCache(path: dataDirectory + "/chunk-cache", size: ClusterChunkCache.defaultSize)
        return PackStoreSettings(
            endpoint: chunks.endpoint, bucket: chunks.bucket, region: chunks.region, accessKey: chunks.accessKey,
            secretKey: chunks.secretKey, prefix: chunks.prefix, node: node, cachePath: cache.path, cacheSize: cache.size)
    }
}

extension EngineConfiguration {
    /// Sets the engine's chunk store from the `cluster:` section: pack objects in the configured
    /// S3-compatible store (README "Chunks in pack objects"), or the local segments as before.
    public mutating func chooseChunkStore(_ cluster: ClusterSettings?, logger: Logger) throws {
        guard let settings = cluster?.packStoreSettings(dataDirectory: dataDirectory) else { return }
        chunkStore = try PackChunkStore(settings: settings, logger: logger)
        logger.notice(
            "chunks go to pack objects at \(settings.endpoint), bucket \(settings.bucket), keys \(settings.prefix)packs/; read cache \(settings.cachePath) (\(settings.cacheSize >> 20) MiB)"
        )
    }
}
