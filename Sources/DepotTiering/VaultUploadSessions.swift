import DepotConfig
import DepotEngine
import DepotHashing
import Foundation
import Synchronization

/// The tus upload a `vault` tier has under way for each copy, kept in the index's settings table
/// (`vault-tus/<hash>/upload`), so that after a restart of this Depot the copy continues where the
/// remote says it stopped (a HEAD for the offset) instead of sending the recording again. Only the
/// upload's id is stored, once when it is created and removed when it completes: the offset always
/// comes from the remote, which is the only side that knows what it kept.
final class VaultUploadSessions: Sendable {
    static let kind = "vault-tus"
    /// Entries older than this are dropped: Depot's Vault expires unfinished uploads after 7 days
    /// by default, and a copy abandoned here (object deleted, task given up) leaves its entry.
    static let maximumAge: Int64 = 8 * 86_400_000

    let engine: Engine
    private let pruned = Mutex(false)

    init(engine: Engine) { self.engine = engine }

    /// The one name of a copy: the remote (endpoint, account, provider), where it lands, and which
    /// bytes (the object's creation time, size and ETag), so a replaced object never resumes the
    /// upload of the bytes it replaced.
    static func name(settings: TierSettings, remoteKey: String, record: ObjectRecord) -> String {
        let identity = [
            settings.name, settings.endpoint, settings.accessKey, settings.provider, remoteKey, String(record.created),
            String(record.size), record.etag,
        ].joined(separator: "\u{0}")
        return Hex.encode(DigestAlgorithm.sha256.hash(Array(identity.utf8)))
    }

    /// The upload id stored for `name`, if any.
    func load(_ name: String) throws -> String? {
        guard let document = try engine.storedSettings(kind: Self.kind + "/" + name).first?.document,
            let object = (try? JSONSerialization.jsonObject(with: Data(document))) as? [String: Any]
        else { return nil }
        return object["id"] as? String
    }

    func save(_ name: String, id: String) async throws {
        try await prune()
        let document: [String: Any] = ["id": id, "created": Engine.now()]
        try await engine.storeSetting(
            kind: Self.kind + "/" + name, name: "upload",
            document: Array(try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])))
    }

    func remove(_ name: String) async throws {
        try await engine.removeSetting(kind: Self.kind + "/" + name, name: "upload")
    }

    /// Drops entries past `maximumAge`, once per process (the first time an upload is saved).
    private func prune() async throws {
        guard
            pruned.withLock({ done in
                defer { done = true }
                return !done
            })
        else { return }
        let now = Engine.now()
        for (name, document) in try engine.storedSettings(kind: Self.kind) {
            let object = (try? JSONSerialization.jsonObject(with: Data(document))) as? [String: Any]
            let created = (object?["created"] as? NSNumber)?.int64Value ?? 0
            guard now - created > Self.maximumAge, let slash = name.firstIndex(of: "/") else { continue }
            try await engine.removeSetting(
                kind: Self.kind + "/" + name[..<slash], name: String(name[name.index(after: slash)...]))
        }
    }
}
