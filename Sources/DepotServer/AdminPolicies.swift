import DepotConfig
import DepotEngine
import DepotS3
import DepotStorage
import Foundation

/// Policies through the admin API, kept like API tiers (see `AdminTiers`), and a dry run that
/// says which stored objects a policy, saved or not, would match.
extension AdminAPI {
    static let policyRoutes: [AdminRoute] = [
        AdminRoute(.get, "/admin/v1/policies") { api, call in
            // Paged and filtered (AdminPaging.swift): ?prefix= on the name, ?source=.
            let filter = AdminFilter(query: call.query)
            let policies = api.configuration.policies.map(api.describe).filter {
                filter.keeps($0, prefixField: "name", exact: ["source": "source"])
            }
            return AdminReply(try AdminPage(call.query).reply("policies", policies) { $0["name"] as? String ?? "" })
        },
        AdminRoute(.post, "/admin/v1/policies") { api, call in
            let object = try call.object()
            guard let name = object["name"] as? String else { throw AdminFailure(.badRequest, "is required", field: "name") }
            try api.refuseLifecyclePolicy(name)
            guard !api.configuration.policies.contains(where: { $0.name == name }) else {
                throw AdminFailure(
                    .conflict, "a policy named \(name) exists; PUT /admin/v1/policies/\(name) replaces it", field: "name")
            }
            return AdminReply(try await api.putPolicy(name: name, object: object), status: .created)
        },
        AdminRoute(.post, "/admin/v1/policies/dry-run") { api, call in
            let document = try api.policyDocument(name: "dry-run", object: try call.object())
            let policy = try DepotConfiguration.parsePolicyDocument(
                String(decoding: document, as: UTF8.self), tiers: api.configuration.tiers)
            return AdminReply(try api.dryRun(policy, limit: Int(call.query["limit"] ?? "") ?? 100))
        },
        AdminRoute(.get, "/admin/v1/policies/{name}") { api, call in
            AdminReply(api.describe(try api.policy(call.parameter("name"))))
        },
        AdminRoute(.put, "/admin/v1/policies/{name}") { api, call in
            let name = call.parameter("name")
            let existed = api.configuration.policies.contains { $0.name == name }
            return AdminReply(try await api.putPolicy(name: name, object: try call.object()), status: existed ? .ok : .created)
        },
        AdminRoute(.delete, "/admin/v1/policies/{name}") { api, call in
            let name = call.parameter("name")
            _ = try api.policy(name)
            try api.refuseLifecyclePolicy(name)
            guard api.runtime.origin("policy:" + name) != .file else {
                throw AdminFailure(.conflict, "policy \(name) is defined in the configuration file; remove it there")
            }
            try await api.runtime.change(kind: "policy", name: name, document: nil)
            return AdminReply(["deleted": name, "restoredFromConfig": api.configuration.policies.contains { $0.name == name }])
        },
        AdminRoute(.post, "/admin/v1/policies/{name}/dry-run") { api, call in
            AdminReply(try api.dryRun(try api.policy(call.parameter("name")), limit: Int(call.query["limit"] ?? "") ?? 100))
        },
    ]

    /// A policy made from a bucket's S3 lifecycle or replication rule is changed through S3 only:
    /// an admin edit here would be undone by the next rebuild from the bucket's document.
    func refuseLifecyclePolicy(_ name: String) throws {
        if LifecyclePolicies.isLifecyclePolicy(name) {
            throw AdminFailure(
                .conflict,
                "policy \(name) comes from a bucket's S3 lifecycle configuration; change it with PutBucketLifecycleConfiguration or DeleteBucketLifecycle"
            )
        }
        if ReplicationPolicies.isReplicationPolicy(name) {
            throw AdminFailure(
                .conflict,
                "policy \(name) comes from a bucket's S3 replication configuration; change it with PutBucketReplication or DeleteBucketReplication"
            )
        }
    }

    func policy(_ name: String) throws -> PolicySettings {
        guard let policy = configuration.policies.first(where: { $0.name == name }) else {
            throw AdminFailure(.notFound, "no policy is named \(name)")
        }
        return policy
    }

    func policyDocument(name: String, object: [String: Any]) throws -> [UInt8] {
        let document = try documentNamed(name, what: "policy", from: object, nameMayDiffer: name == "dry-run")
        return Array(try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]))
    }

    /// Creates or replaces a policy; the document has the fields of a `policies[]` entry. It
    /// takes effect at once: new uploads are planned with it, retention and transition use it.
    func putPolicy(name: String, object: [String: Any]) async throws -> [String: Any] {
        try refuseLifecyclePolicy(name)
        try validateName(name, what: "policy")
        let document = try policyDocument(name: name, object: object)
        _ = try DepotConfiguration.parsePolicyDocument(String(decoding: document, as: UTF8.self), tiers: configuration.tiers)
        try await runtime.change(kind: "policy", name: name, document: document)
        return describe(try policy(name))
    }

    /// Which stored objects the policy matches: their number, bytes, and the first `limit`.
    func dryRun(_ policy: PolicySettings, limit: Int) throws -> [String: Any] {
        var count = 0
        var bytes: UInt64 = 0
        var sample: [[String: Any]] = []
        // What its expiry would keep: versions under Object Lock (ObjectLockRules.swift).
        var locked = 0
        let lockNow = try engine.lockNow()
        let buckets = try policy.bucket.flatMap { $0 == "*" ? nil : [$0] } ?? engine.listBuckets().map(\.name)
        for bucket in buckets where try engine.bucket(bucket) != nil {
            var after = ""
            while true {
                let page = try engine.listObjects(bucket: bucket, prefix: policy.prefix, startAfter: after, maxKeys: 1000)
                for (key, record) in page.objects where policy.matches(bucket: bucket, key: key, record: record) {
                    count += 1
                    bytes += record.size
                    let lockedWhy =
                        !policy.expires ? nil : record.lock.deletionRefusal(bypassGovernance: false, now: lockNow)
                    if lockedWhy != nil { locked += 1 }
                    if sample.count < limit {
                        var entry: [String: Any] = ["bucket": bucket, "key": key, "size": record.size, "created": record.created]
                        if let lockedWhy { entry["keptByObjectLock"] = lockedWhy }
                        sample.append(entry)
                    }
                }
                guard page.isTruncated, let last = page.lastReturned else { break }
                after = last
            }
        }
        var result: [String: Any] = [
            "policy": policy.name, "matches": count, "bytes": bytes, "keptByObjectLock": locked, "objects": sample,
        ]
        if policy.expiresVersions { result["versions"] = try versionDryRun(policy, buckets: buckets, limit: limit) }
        return result
    }

    func describe(_ policy: PolicySettings) -> [String: Any] {
        var match: [String: Any] = ["prefix": policy.prefix]
        if let bucket = policy.bucket { match["bucket"] = bucket }
        if let glob = policy.glob { match["key"] = glob.description }
        if let account = policy.account { match["account"] = account }
        if !policy.metadata.isEmpty { match["metadata"] = policy.metadata }
        if !policy.tags.isEmpty { match["tags"] = policy.tags }
        if let size = policy.minimumSize { match["minSize"] = size }
        if let size = policy.maximumSize { match["maxSize"] = size }
        // Objects a higher-priority replication rule to the same tier matches are left to it.
        if !policy.yieldsTo.isEmpty { match["yieldsTo"] = policy.yieldsTo.map(\.name) }
        var out: [String: Any] = [
            "name": policy.name, "match": match, "source": runtime.origin("policy:" + policy.name)?.rawValue ?? "config",
        ]
        if !policy.replicateTo.isEmpty {
            var replicate: [String: Any] = [
                "to": policy.replicateTo, "mode": policy.mode.rawValue, "deletes": policy.propagateDeletes,
                "versions": policy.replicateVersions.rawValue, "encryptedObjects": policy.encryptedObjects.rawValue,
            ]
            if policy.propagateDeletes && !policy.propagatesVersionDeletes {
                // An S3 replication rule's DeleteMarkerReplication: delete markers only.
                replicate["deleteMarkersOnly"] = true
            }
            out["replicate"] = replicate
        }
        if policy.expires || policy.expiresVersions {
            var expire: [String: Any] = ["where": policy.expireWhere.rawValue]
            if let after = policy.expireAfter { expire["after"] = "\(after)s" }
            if let date = policy.expireAt { expire["at"] = iso8601(milliseconds: date) }
            if policy.expireAtMidnightUTC { expire["roundedTo"] = "midnight UTC" }
            // Versioned buckets (PolicyVersionExpiry.swift).
            if let after = policy.expireNoncurrentAfter { expire["noncurrentAfter"] = "\(after)s" }
            if let keep = policy.keepNewerNoncurrent { expire["keepNewerNoncurrent"] = keep }
            if policy.expireDeleteMarkers { expire["expiredDeleteMarkers"] = true }
            out["expire"] = expire
        }
        if let after = policy.abortUploadsAfter { out["abortIncompleteUploads"] = ["after": "\(after)s"] }
        if LifecyclePolicies.isLifecyclePolicy(policy.name), let bucket = policy.bucket {
            // Made from the bucket's lifecycle rule: changed through S3, not here.
            out["lifecycle"] = [
                "bucket": bucket, "rule": String(policy.name.dropFirst("s3-lifecycle:\(bucket):".count)),
                "readOnly": true,
            ]
        }
        if ReplicationPolicies.isReplicationPolicy(policy.name), let bucket = policy.bucket {
            // Made from the bucket's replication rule: changed through S3, not here.
            out["replication"] = [
                "bucket": bucket, "rule": String(policy.name.dropFirst("s3-replication:\(bucket):".count)),
                "readOnly": true,
            ]
        }
        if policy.transitions {
            var transition: [String: Any] = [:]
            if let after = policy.transitionAfter { transition["after"] = "\(after)s" }
            if let date = policy.transitionAt { transition["at"] = iso8601(milliseconds: date) }
            out["transition"] = transition
        }
        if let lock = policy.lock { out["lock"] = lock.document }
        return out
    }
}
