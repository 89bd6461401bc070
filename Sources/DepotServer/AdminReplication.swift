import DepotConfig
import DepotEngine
import DepotHashing
import Foundation

/// Replication through the admin API: backlog per tier, failed copies and their retry, and
/// on-demand requests (by keys, prefix, time range or policy backfill), each a job whose
/// progress can be asked for later.
extension AdminAPI {
    static let replicationRoutes: [AdminRoute] = [
        AdminRoute(.get, "/admin/v1/replication") { api, _ in AdminReply(["tiers": try api.replicationBacklog()]) },
        AdminRoute(.get, "/admin/v1/replication/failed") { api, call in
            // Paged and filtered (AdminPaging.swift): ?bucket=, ?tier=, ?prefix= on the key.
            let filter = AdminFilter(query: call.query)
            let scope = ReplicaScope(bucket: call.query["bucket"], prefix: call.query["prefix"] ?? "")
            let failed = (try api.failedReplications(in: scope)["failed"] as? [[String: Any]] ?? []).filter {
                filter.keeps($0, prefixField: "key", exact: ["bucket": "bucket", "tier": "tier"])
            }
            return AdminReply(
                try AdminPage(call.query).reply("failed", failed) { item in
                    ["bucket", "key", "tier", "versionId"].map { "\(item[$0] ?? "")" }.joined(separator: "\u{0}")
                })
        },
        AdminRoute(.post, "/admin/v1/replication/retry") { api, call in
            AdminReply(try await api.retryFailed(try call.object()))
        },
        AdminRoute(.post, "/admin/v1/replicate") { api, call in
            AdminReply(try await api.replicate(try call.object()), status: .accepted)
        },
        AdminRoute(.get, "/admin/v1/replication/jobs/{id}") { api, call in
            AdminReply(try api.job(call.parameter("id")))
        },
    ]

    /// Per tier: backlog, oldest pending age, rate, breaker, last error and failing state
    /// (AdminTierStatus.swift).
    func replicationBacklog() throws -> [[String: Any]] { try tierStatus() }

    /// On-demand replication: `{"bucket", "tier", "keys": [...] | "prefix" [, "since", "until"] |
    /// "policy"}` (times in ms since the epoch). Returns a job id to follow its progress.
    func replicate(_ request: [String: Any]) async throws -> [String: Any] {
        guard let bucket = request["bucket"] as? String, !bucket.isEmpty else {
            throw AdminFailure(.badRequest, "is required", field: "bucket")
        }
        guard let tier = request["tier"] as? String, configuration.tiers.contains(where: { $0.name == tier }) else {
            throw AdminFailure(.badRequest, "is required and must name a tier", field: "tier")
        }
        guard try engine.bucket(bucket) != nil else { throw AdminFailure(.notFound, "no bucket \(bucket)", field: "bucket") }
        let since = (request["since"] as? NSNumber)?.int64Value ?? 0
        let until = (request["until"] as? NSNumber)?.int64Value ?? .max
        var keys = request["keys"] as? [String] ?? []
        // Backfill: every existing object a policy matches, to that policy's tiers.
        if let name = request["policy"] as? String {
            guard let policy = configuration.policies.first(where: { $0.name == name }) else {
                throw AdminFailure(.badRequest, "no policy is named \(name)", field: "policy")
            }
            guard policy.replicateTo.contains(tier) else {
                throw AdminFailure(.badRequest, "the policy \(name) does not replicate to \(tier)", field: "tier")
            }
            keys += try matchingKeys(bucket: bucket, prefix: policy.prefix) {
                policy.matches(bucket: bucket, key: $0, record: $1)
            }
        }
        if let prefix = request["prefix"] as? String {
            keys += try matchingKeys(bucket: bucket, prefix: prefix) { _, record in
                record.created >= since && record.created < until
            }
        }
        guard !keys.isEmpty || request["prefix"] != nil || request["policy"] != nil else {
            throw AdminFailure(.badRequest, "give keys, a prefix or a policy", field: "keys")
        }
        // Only work not yet done is queued: a copy already confirmed on the tier, or already on
        // its way there, is counted as such (the engine's request leaves it as it is).
        var queued: [String] = []
        var replicated: [String] = []
        var inProgress: [String] = []
        var missing: [String] = []
        for key in keys {
            switch try engine.headObject(bucket: bucket, key: key)?.replicas.first(where: { $0.tier == tier })?.state {
            case .completed?:
                replicated.append(key)
                continue
            case .failed?, nil: break
            default:
                inProgress.append(key)
                continue
            }
            if try await engine.requestReplication(bucket: bucket, key: key, tiers: [tier]) {
                queued.append(key)
            } else {
                missing.append(key)
            }
        }
        let id = Hex.encode(secureRandomBytes(8))
        // The job follows every object it names, those already copied included, so its counts
        // add up to what was asked for.
        let job: [String: Any] = [
            "id": id, "bucket": bucket, "tier": tier, "keys": queued + inProgress + replicated, "created": Engine.now(),
        ]
        try await engine.storeSetting(kind: "job", name: id, document: Array(try JSONSerialization.data(withJSONObject: job)))
        return [
            "job": id, "bucket": bucket, "tier": tier, "queued": queued.count, "alreadyReplicated": replicated.count,
            "alreadyQueued": inProgress.count, "missing": missing,
        ]
    }

    private func matchingKeys(
        bucket: String, prefix: String, _ predicate: (String, ObjectRecord) -> Bool
    ) throws -> [String] {
        var keys: [String] = []
        var after = ""
        while true {
            let page = try engine.listObjects(bucket: bucket, prefix: prefix, startAfter: after, maxKeys: 1000)
            keys += page.objects.filter { predicate($0.key, $0.record) }.map(\.key)
            guard page.isTruncated, let last = page.lastReturned else { return keys }
            after = last
        }
    }

    /// A job's progress, from the objects' own replica states (so it is right across restarts).
    func job(_ id: String) throws -> [String: Any] {
        guard let stored = try engine.storedSettings(kind: "job").first(where: { $0.name == id }),
            let job = (try? JSONSerialization.jsonObject(with: Data(stored.document))) as? [String: Any],
            let bucket = job["bucket"] as? String, let tier = job["tier"] as? String
        else { throw AdminFailure(.notFound, "no replication job \(id)") }
        var counts = ["completed": 0, "pending": 0, "failed": 0, "gone": 0]
        var failed: [[String: Any]] = []
        // Bytes of the objects the job names, and of those whose copy is confirmed (progress and ETA).
        var bytes: UInt64 = 0
        var completedBytes: UInt64 = 0
        for key in job["keys"] as? [String] ?? [] {
            guard let record = try engine.headObject(bucket: bucket, key: key),
                let replica = record.replicas.first(where: { $0.tier == tier })
            else {
                counts["gone", default: 0] += 1
                continue
            }
            bytes += record.size
            switch replica.state {
            case .completed:
                counts["completed", default: 0] += 1
                completedBytes += record.size
            case .failed:
                counts["failed", default: 0] += 1
                failed.append(["key": key, "lastError": replica.lastError, "attempts": replica.attempts])
            default: counts["pending", default: 0] += 1
            }
        }
        let total = (job["keys"] as? [String])?.count ?? 0
        return [
            "job": id, "bucket": bucket, "tier": tier, "created": job["created"] ?? 0, "total": total,
            "completed": counts["completed"]!, "pending": counts["pending"]!, "failed": counts["failed"]!,
            "gone": counts["gone"]!, "done": counts["pending"]! == 0, "failures": failed, "bytes": bytes,
            "completedBytes": completedBytes,
        ]
    }

    /// Every object with a FAILED replica, with the tier, attempts and last error; then older
    /// versions' FAILED copies, each with its `versionId`.
    func failedReplications(in scope: ReplicaScope = ReplicaScope()) throws -> [String: Any] {
        var failed: [[String: Any]] = []
        try forEachFailedReplica(in: scope) { bucket, key, replica in
            failed.append([
                "bucket": bucket, "key": key, "tier": replica.tier, "attempts": replica.attempts,
                "lastError": replica.lastError, "updated": replica.updated,
            ])
        }
        try forEachFailedOlderVersion(in: scope) { bucket, key, record, replica in
            failed.append([
                "bucket": bucket, "key": key, "versionId": record.versionId ?? "null", "tier": replica.tier,
                "attempts": replica.attempts, "lastError": replica.lastError, "updated": replica.updated,
            ])
        }
        return ["failed": failed]
    }

    /// Queues FAILED copies again: all of them, or those of `bucket`, `key` and/or `tier`.
    func retryFailed(_ filter: [String: Any]) async throws -> [String: Any] {
        let bucketFilter = filter["bucket"] as? String
        let keyFilter = filter["key"] as? String
        let tierFilter = filter["tier"] as? String
        var targets: [(String, String, String)] = []
        try forEachFailedReplica { bucket, key, replica in
            guard bucketFilter.map({ $0 == bucket }) ?? true, keyFilter.map({ $0 == key }) ?? true,
                tierFilter.map({ $0 == replica.tier }) ?? true
            else { return }
            targets.append((bucket, key, replica.tier))
        }
        var olderTargets: [(String, String, UInt64, String)] = []
        try forEachFailedOlderVersion { bucket, key, record, replica in
            guard bucketFilter.map({ $0 == bucket }) ?? true, keyFilter.map({ $0 == key }) ?? true,
                tierFilter.map({ $0 == replica.tier }) ?? true
            else { return }
            olderTargets.append((bucket, key, record.versionOrder, replica.tier))
        }
        for (bucket, key, tier) in targets {
            try await engine.requestReplication(bucket: bucket, key: key, tiers: [tier])
        }
        var requeued = targets.count
        for (bucket, key, order, tier) in olderTargets
        where try await engine.retryVersionReplication(bucket: bucket, key: key, order: order, tier: tier) {
            requeued += 1
        }
        return ["requeued": requeued]
    }

    /// The FAILED copies of versioned buckets' older versions (not the current ones, which
    /// `forEachFailedReplica` finds), paging through each bucket's versions.
    private func forEachFailedOlderVersion(
        in scope: ReplicaScope = ReplicaScope(), _ body: (String, String, ObjectRecord, TierReplica) throws -> Void
    ) throws {
        for bucket in try engine.listBuckets() where scope.bucket.map({ $0 == bucket.name }) ?? true {
            var keyMarker = ""
            var versionMarker: VersionSelector?
            while true {
                let page = try engine.listVersions(
                    bucket: bucket.name, prefix: scope.prefix, keyMarker: keyMarker, versionIdMarker: versionMarker,
                    maxKeys: 1000)
                for entry in page.versions where !entry.isLatest && !entry.record.isDeleteMarker {
                    for replica in entry.record.replicas where replica.state == .failed {
                        try body(bucket.name, entry.key, entry.record, replica)
                    }
                }
                guard page.isTruncated, let nextKey = page.nextKeyMarker else { break }
                keyMarker = nextKey
                versionMarker = page.nextVersionIdMarker.flatMap(VersionSelector.init)
            }
        }
    }

    private func forEachFailedReplica(
        in scope: ReplicaScope = ReplicaScope(), _ body: (String, String, TierReplica) throws -> Void
    ) throws {
        for bucket in try engine.listBuckets() where scope.bucket.map({ $0 == bucket.name }) ?? true {
            var after = ""
            while true {
                let page = try engine.listObjects(
                    bucket: bucket.name, prefix: scope.prefix, startAfter: after, maxKeys: 1000)
                for (key, record) in page.objects {
                    for replica in record.replicas where replica.state == .failed { try body(bucket.name, key, replica) }
                }
                guard page.isTruncated, let last = page.lastReturned else { break }
                after = last
            }
        }
    }
}

/// The objects a failed-replication listing walks: one bucket's (or all), under a key prefix, so
/// a filtered listing reads only those instead of every object of every bucket.
struct ReplicaScope {
    var bucket: String?
    var prefix = ""
}
