import DepotConfig
import DepotEngine
import DepotS3
import Foundation

/// Buckets and objects through the admin API: usage per bucket, and everything Depot knows of
/// one object (what support asks first when a recording is "missing from the cloud").
extension AdminAPI {
    static let bucketRoutes: [AdminRoute] = [
        AdminRoute(.get, "/admin/v1/buckets") { api, call in
            // Paged and filtered by name (AdminPaging.swift) before any usage is counted: counting
            // reads every object of a bucket, so a page costs only its own buckets.
            let filter = AdminFilter(query: call.query)
            let names = try api.engine.listBuckets().map { ["name": $0.name] as [String: Any] }.filter {
                filter.keeps($0, prefixField: "name")
            }
            var page = try AdminPage(call.query).reply("buckets", names) { $0["name"] as? String ?? "" }
            page["buckets"] = try (page["buckets"] as? [[String: Any]] ?? []).map {
                try api.usage(of: $0["name"] as? String ?? "")
            }
            return AdminReply(page)
        },
        AdminRoute(.get, "/admin/v1/buckets/{bucket}") { api, call in
            let bucket = call.parameter("bucket")
            guard try api.engine.bucket(bucket) != nil else { throw AdminFailure(.notFound, "no bucket \(bucket)") }
            return AdminReply(try api.usage(of: bucket))
        },
        AdminRoute(.get, "/admin/v1/buckets/{bucket}/objects/{key+}") { api, call in
            AdminReply(
                try api.objectStatus(
                    bucket: call.parameter("bucket"), key: call.parameter("key"), versionId: call.query["versionId"]))
        },
    ]

    /// Objects, logical bytes, and stored bytes after deduplication: each distinct chunk the
    /// bucket's objects and older versions use counted once (chunks shared with other buckets
    /// count in each); older versions and delete markers are counted on their own.
    func usage(of bucket: String) throws -> [String: Any] {
        var objects = 0
        var logical: UInt64 = 0
        var evicted = 0
        var chunks = Set<[UInt8]>()
        var stored: UInt64 = 0
        var after = ""
        while true {
            let page = try engine.listObjects(bucket: bucket, startAfter: after, maxKeys: 1000, withManifests: true)
            for (_, record) in page.objects {
                objects += 1
                logical += record.size
                guard record.localState == .present else {
                    evicted += 1
                    continue
                }
                for chunk in record.manifest where chunks.insert(chunk.hash).inserted { stored += UInt64(chunk.length) }
            }
            guard page.isTruncated, let last = page.lastReturned else { break }
            after = last
        }
        // A versioned bucket's older versions and delete markers: their chunks take space too.
        var noncurrent = 0
        var noncurrentBytes: UInt64 = 0
        var markers = 0
        try engine.forEachNoncurrentVersion(bucket: bucket) { record in
            if record.isDeleteMarker {
                markers += 1
                return
            }
            noncurrent += 1
            noncurrentBytes += record.size
            guard record.localState == .present else { return }
            for chunk in record.manifest where chunks.insert(chunk.hash).inserted { stored += UInt64(chunk.length) }
        }
        return [
            "name": bucket, "objects": objects, "logicalBytes": logical, "storedBytes": stored, "chunks": chunks.count,
            "evictedObjects": evicted, "noncurrentVersions": noncurrent, "noncurrentBytes": noncurrentBytes,
            "deleteMarkers": markers,
            "dedupRatio": stored == 0 ? 1.0 : Double(logical + noncurrentBytes) / Double(stored),
            // What makes the bucket public (its policy grants to everyone...); empty when nothing does.
            "public": try engine.bucket(bucket).map { BucketExposure.reasons(bucket: bucket, record: $0) } ?? [],
        ]
    }

    /// The current object's status, or with `versionId` that version's (each version keeps its
    /// own tier copies' states when a policy replicates every version).
    func objectStatus(bucket: String, key: String, versionId: String? = nil) throws -> [String: Any] {
        let found: ObjectRecord?
        if let versionId {
            guard let selector = VersionSelector(versionId) else {
                throw AdminFailure(.badRequest, "not a version id: \(versionId)", field: "versionId")
            }
            found = try engine.objectVersion(bucket: bucket, key: key, selector).flatMap { $0.isDeleteMarker ? nil : $0 }
        } else {
            found = try engine.headObject(bucket: bucket, key: key)
        }
        guard let record = found else {
            throw AdminFailure(.notFound, "no object \(key)\(versionId.map { " version " + $0 } ?? "") in bucket \(bucket)")
        }
        let distinct = Set(record.manifest.map(\.hash)).count
        let tasks = try engine.tasks(bucket: bucket, key: key).map { entry -> [String: Any] in
            [
                "tier": entry.task.tier, "kind": entry.task.kind == .delete ? "delete" : "replicate",
                "due": entry.due, "attempts": entry.task.attempts,
            ]
        }
        return [
            "bucket": bucket, "key": key, "versionId": record.versionId ?? NSNull(), "size": record.size,
            "etag": record.etag, "created": record.created,
            "owner": record.owner, "contentType": record.contentType,
            "userMetadata": Dictionary(record.userMetadata, uniquingKeysWith: { a, _ in a }),
            "tags": Dictionary(record.tags, uniquingKeysWith: { a, _ in a }),
            "local": record.localState == .present ? "present" : "evicted",
            "manifest": [
                "chunks": record.manifest.count, "distinctChunks": distinct,
                "parts": record.partSizes.count,
            ] as [String: Any],
            "replicationStatus": record.replicationStatus ?? NSNull(),
            "replicas": record.replicas.map { replica in
                [
                    "tier": replica.tier, "state": replica.state.s3Name, "attempts": replica.attempts,
                    "lastError": replica.lastError, "updated": replica.updated,
                ] as [String: Any]
            },
            "pendingTasks": tasks,
        ]
    }
}
