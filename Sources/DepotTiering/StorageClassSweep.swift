import DepotConfig
import DepotEngine
import Logging

/// Finishes the moves of objects put in a storage class (StorageClasses.swift) that the copy's
/// confirmation alone did not finish: a crash between the tier confirming the copy and the local
/// eviction, or a class whose tier changed since the PUT (the old tier removed, another tier now
/// declaring the class), which leaves no copy queued to the tier now holding the class. Run once
/// after start and after each configuration change that declares classes, not on every retention
/// pass: it reads every object of every bucket.
struct StorageClassSweep: Sendable {
    let engine: Engine
    let classes: StorageClasses
    let logger: Logger

    func run() async {
        guard !classes.tierOfClass.isEmpty, let buckets = try? engine.listBuckets() else { return }
        var queued = 0
        var evicted = 0
        for (bucket, _) in buckets {
            var after = ""
            while !Task.isCancelled {
                guard let page = try? engine.listObjects(bucket: bucket, prefix: "", startAfter: after, maxKeys: 500) else {
                    break
                }
                for (key, record) in page.objects where record.localState == .present {
                    guard let tier = classes.targetTier(of: record) else { continue }
                    do {
                        if !record.replicas.contains(where: { $0.tier == tier }) {
                            if try await engine.requestReplication(bucket: bucket, key: key, tiers: [tier]) { queued += 1 }
                        } else if try await engine.evict(bucket: bucket, key: key, created: record.created, confirmedOn: [tier]) {
                            evicted += 1
                        }
                    } catch {
                        logger.warning("storage classes: finishing the move of \(bucket)/\(key) to \(tier) failed: \(error)")
                    }
                }
                guard page.isTruncated, let last = page.lastReturned else { break }
                after = last
            }
        }
        if queued + evicted > 0 {
            logger.info("storage classes: \(queued) objects queued for their class's tier, \(evicted) local copies evicted")
        }
    }
}
