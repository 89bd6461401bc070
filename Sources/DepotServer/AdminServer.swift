import DepotConfig
import DepotEngine
import DepotS3

/// Server-wide admin operations: status, the configuration in effect, reload.
extension AdminAPI {
    static let serverRoutes: [AdminRoute] = [
        AdminRoute(.get, "/admin/v1/status") { api, _ in AdminReply(try api.status()) },
        AdminRoute(.get, "/admin/v1/server") { api, _ in AdminReply(api.serverInfo()) },
        AdminRoute(.post, "/admin/v1/server/reload") { api, _ in AdminReply(try await api.reload()) },
    ]

    func status() throws -> [String: Any] {
        [
            "version": DepotVersion.current, "uptimeSeconds": (Engine.now() - started) / 1000,
            "buckets": try engine.listBuckets().count, "tiers": try replicationBacklog(),
            "storage": engine.space()?.json ?? [:],
            // Each account with a quota: what it owns against what it may.
            "quotas": try allAccounts().filter { $0.account.quota != nil }.map { describe($0.account, origin: $0.origin) },
            // Each bucket anyone may reach (BucketExposure), with what makes it so.
            "publicBuckets": try engine.listBuckets().compactMap { item -> [String: Any]? in
                let reasons = BucketExposure.reasons(bucket: item.name, record: item.record)
                return reasons.isEmpty ? nil : ["name": item.name, "reasons": reasons]
            },
        ]
    }

    /// Version, uptime and the configuration in effect, secrets masked, each tier and policy
    /// with where it comes from (the file, the API, or the API over the file).
    func serverInfo() -> [String: Any] {
        let config = configuration
        return [
            "version": DepotVersion.current, "uptimeSeconds": (Engine.now() - started) / 1000,
            "reloads": runtime.reloads,
            "configuration": [
                "server": [
                    "address": config.server.address, "region": config.server.region, "domain": config.server.domain,
                    "tls": config.server.tls != nil, "logFormat": config.server.logFormat,
                ] as [String: Any],
                "storage": [
                    "data": config.storage.data, "segmentSize": config.storage.segmentSize,
                    "cacheWrittenData": config.storage.cacheWrittenData,
                    "chunking": [
                        "min": config.storage.chunking.minimum, "average": config.storage.chunking.average,
                        "max": config.storage.chunking.maximum,
                    ],
                    "gcIntervalSeconds": config.storage.gcInterval, "uploadExpirySeconds": config.storage.uploadExpiry,
                    "lifecycleIntervalSeconds": config.storage.lifecycleInterval,
                    "reserve": config.storage.reserve.description,
                ] as [String: Any],
                "buckets": config.buckets,
                "accounts": config.accounts.map { describe($0, origin: "config") },
                "tiers": config.tiers.map(describe),
                "policies": config.policies.map(describe),
            ] as [String: Any],
        ]
    }

    /// Reads the configuration file again (as SIGHUP does). A file that does not parse changes
    /// nothing and gets a 400 naming the field.
    func reload() async throws -> [String: Any] {
        guard let server = reloader else {
            throw AdminFailure(.conflict, "the server runs on the embedded default configuration: there is no file to reload")
        }
        let restartOnly = try await server()
        return ["reloaded": true, "needsRestart": restartOnly, "reloads": runtime.reloads]
    }
}
