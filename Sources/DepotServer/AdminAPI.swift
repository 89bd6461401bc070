import DepotConfig
import DepotEngine
import DepotS3
import DepotSigV4
import DepotTiering
import Foundation
import Glibc
import HTTPTypes
import HummingbirdCore
import NIOCore

/// The admin API under `/admin/v1/`: JSON, authenticated by SigV4 with an account that has the
/// `admin` action, so the same keys and tools work as for S3.
struct AdminAPI: Sendable {
    let engine: Engine
    let accounts: AccountStore
    let tiering: TieringService
    let live: LiveConfiguration
    let started: Int64
    var configuration: DepotConfiguration { live.current }

    func respond(to request: Request) async -> Response {
        let path = (request.head.path ?? "/").split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        do {
            try authenticate(request)
            let parts = path.split(separator: "/").map(String.init)  // ["admin", "v1", ...]
            switch (request.method, Array(parts.dropFirst(2))) {
            case (.get, ["status"]):
                return json(try status())
            case (.get, ["tiers"]):
                return json(["tiers": configuration.tiers.map(describe)])
            case (.post, let p) where p.count == 3 && p[0] == "tiers" && p[2] == "check":
                return json(try await check(tier: p[1]))
            case (.get, ["replication", "failed"]):
                return json(try failedReplications())
            case (.post, ["replicate"]):
                var body = request.body
                let bytes = try await body.collect(upTo: 1 << 20)
                return json(try await replicate(Data(bytes.readableBytesView)))
            default:
                return errorResponse(.notFound, "no admin operation \(request.method) \(path)")
            }
        } catch let failure as AdminFailure {
            return errorResponse(failure.status, failure.message)
        } catch {
            return errorResponse(.internalServerError, "\(error)")
        }
    }

    struct AdminFailure: Error {
        let status: HTTPResponse.Status
        let message: String
    }

    private func authenticate(_ request: Request) throws {
        var headers: [(name: String, value: String)] = [("host", request.head.authority ?? "")]
        for field in request.headers { headers.append((field.name.canonicalName, field.value)) }
        let target = request.head.path ?? "/"
        let question = target.firstIndex(of: "?")
        let sigRequest = SigV4Request(
            method: request.method.rawValue, rawPath: String(question.map { target[..<$0] } ?? target[...]),
            rawQuery: question.map { String(target[target.index(after: $0)...]) } ?? "", headers: headers)
        let verifier = SigV4Verifier(region: configuration.server.region, service: "s3")
        do {
            guard let claim = try verifier.claim(of: sigRequest) else {
                throw AdminFailure(
                    status: .unauthorized, message: "sign admin requests with SigV4 (an account with the admin action)")
            }
            guard let account = accounts.account(accessKey: claim.accessKey), account.enabled else {
                throw AdminFailure(status: .forbidden, message: "unknown access key")
            }
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            _ = try verifier.verify(claim, secretKey: account.secretKey, now: Int(now.tv_sec))
            guard account.allows(.admin, bucket: "*") || account.grants.contains(where: { $0.actions.contains(.admin) }) else {
                throw AdminFailure(status: .forbidden, message: "the account \(account.name) lacks the admin action")
            }
        } catch let error as SigV4Error {
            throw AdminFailure(status: .forbidden, message: "signature check failed: \(error)")
        }
    }

    private func status() throws -> [String: Any] {
        let backlog = try engine.taskBacklog()
        let now = Engine.now()
        let tiers: [[String: Any]] = configuration.tiers.map { tier in
            let entry = backlog[tier.name]
            return [
                "name": tier.name, "type": tier.kind.rawValue, "backlog": entry?.count ?? 0,
                "oldestPendingAgeSeconds": entry.map { max(0, now - $0.oldestDue) / 1000 } ?? 0,
            ]
        }
        return [
            "version": DepotVersion.current, "uptimeSeconds": (now - started) / 1000,
            "buckets": try engine.listBuckets().count, "tiers": tiers,
        ]
    }

    private func describe(_ tier: TierSettings) -> [String: Any] {
        var out: [String: Any] = ["name": tier.name, "type": tier.kind.rawValue, "prefix": tier.prefix, "source": "config"]
        switch tier.kind {
        case .filesystem: out["path"] = tier.path
        case .s3:
            out["endpoint"] = tier.endpoint
            out["bucket"] = tier.bucket
            out["accessKey"] = tier.accessKey
            out["secretKey"] = "********"
        default: break
        }
        return out
    }

    private func check(tier name: String) async throws -> [String: Any] {
        guard let client = tiering.client(named: name) else {
            throw AdminFailure(status: .notFound, message: "no tier is named \(name)")
        }
        do {
            try await client.check()
            return ["tier": name, "ok": true]
        } catch {
            return ["tier": name, "ok": false, "error": "\(error)"]
        }
    }

    /// On-demand replication: `{"bucket", "keys": [...] | "prefix", "since": ms, "tier"}`.
    private func replicate(_ body: Data) async throws -> [String: Any] {
        guard let request = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw AdminFailure(status: .badRequest, message: "body: expected a JSON object")
        }
        guard let bucket = request["bucket"] as? String, !bucket.isEmpty else {
            throw AdminFailure(status: .badRequest, message: "bucket: required")
        }
        guard let tier = request["tier"] as? String, configuration.tiers.contains(where: { $0.name == tier }) else {
            throw AdminFailure(status: .badRequest, message: "tier: required, and must name a configured tier")
        }
        guard try engine.bucket(bucket) != nil else {
            throw AdminFailure(status: .notFound, message: "bucket: no bucket \(bucket)")
        }
        let since = (request["since"] as? NSNumber)?.int64Value ?? 0
        var keys = request["keys"] as? [String] ?? []
        // Backfill: every existing object a policy matches, to that policy's tiers.
        if let name = request["policy"] as? String {
            guard let policy = configuration.policies.first(where: { $0.name == name }) else {
                throw AdminFailure(status: .badRequest, message: "policy: no policy is named \(name)")
            }
            guard policy.replicateTo.contains(tier) else {
                throw AdminFailure(status: .badRequest, message: "tier: the policy \(name) does not replicate to \(tier)")
            }
            var after = ""
            while true {
                let page = try engine.listObjects(bucket: bucket, prefix: policy.prefix, startAfter: after, maxKeys: 1000)
                keys += page.objects.filter { policy.matches(bucket: bucket, key: $0.key, record: $0.record) }.map(\.key)
                guard page.isTruncated, let last = page.lastReturned else { break }
                after = last
            }
        }
        if let prefix = request["prefix"] as? String {
            var after = ""
            while true {
                let page = try engine.listObjects(bucket: bucket, prefix: prefix, startAfter: after, maxKeys: 1000)
                keys += page.objects.filter { $0.record.created >= since }.map(\.key)
                guard page.isTruncated, let last = page.lastReturned else { break }
                after = last
            }
        }
        guard !keys.isEmpty || request["prefix"] != nil || request["policy"] != nil else {
            throw AdminFailure(status: .badRequest, message: "keys or prefix: one is required")
        }
        var queued: [String] = []
        var missing: [String] = []
        for key in keys {
            if try await engine.requestReplication(bucket: bucket, key: key, tiers: [tier]) {
                queued.append(key)
            } else {
                missing.append(key)
            }
        }
        return ["bucket": bucket, "tier": tier, "queued": queued.count, "missing": missing]
    }

    /// Every object with a FAILED replica, with the tier, attempts and last error.
    private func failedReplications() throws -> [String: Any] {
        var failed: [[String: Any]] = []
        for bucket in try engine.listBuckets() {
            var after = ""
            while true {
                let page = try engine.listObjects(bucket: bucket.name, startAfter: after, maxKeys: 1000)
                for (key, record) in page.objects {
                    for replica in record.replicas where replica.state == .failed {
                        failed.append([
                            "bucket": bucket.name, "key": key, "tier": replica.tier, "attempts": replica.attempts,
                            "lastError": replica.lastError, "updated": replica.updated,
                        ])
                    }
                }
                guard page.isTruncated, let last = page.lastReturned else { break }
                after = last
            }
        }
        return ["failed": failed]
    }

    private func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(data.count)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func errorResponse(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(["error": message], status: status)
    }
}

/// The version `depot --version` and the admin API report.
public enum DepotVersion {
    public static let current = "0.1.0"
}
