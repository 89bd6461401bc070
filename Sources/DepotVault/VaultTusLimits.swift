import DepotEngine
import Glibc
import Synchronization

/// tus uploads that have a PATCH or DELETE running. Two PATCHes of one upload at once would both
/// start at the same offset and become the same part, the later replacing the earlier's bytes;
/// so the second is refused with 423 Locked, as tusd answers (the tus 1.0 protocol leaves
/// concurrent requests to the server). In embedded mode the data directory's lock keeps a
/// second process out, so a lock in this process is enough; cluster mode gives the Vault the
/// cluster's locks instead (`UploadLocks`, AdvisoryUploadLocks).
final class TusUploadLocks: UploadLocks {
    private let held = Mutex<Set<String>>([])

    /// Takes the upload's lock; false when a PATCH or DELETE of it holds it already.
    func tryLock(_ id: String) -> Bool { held.withLock { $0.insert(id).inserted } }

    /// Nothing takes a lock of this process away from its holder.
    func stillHeld(_ id: String) -> Bool { true }

    func unlock(_ id: String) { _ = held.withLock { $0.remove(id) } }
}

extension VaultService {
    /// The most PATCHes one tus upload may take. Each PATCH is kept as one part of the engine's
    /// multipart upload, and the offset is the sum of the parts: without a bound a client sending
    /// tiny PATCHes grows the upload's part list (and the work of every later PATCH) for ever,
    /// and past the 10,000 parts a listing returns the offset and the object would be wrong. S3's
    /// part limit, 10,000; `DEPOT_TUS_MAX_PATCHES` lowers it (tests, or to make agents send larger
    /// PATCHes).
    static let tusPatchLimit: Int = {
        let ceiling = 10_000
        guard let text = getenv("DEPOT_TUS_MAX_PATCHES").map({ String(cString: $0) }), let n = Int(text), n >= 1 else {
            return ceiling
        }
        return min(n, ceiling)
    }()

    /// Refuses, before its body is read, a PATCH the upload has no room for: it already took
    /// `tusPatchLimit` PATCHes, or this is the last one it may take and it declares less than the
    /// rest of the upload (it would leave an upload that can never be finished).
    func checkPatchLimit(parts: Int, declared: UInt64?, remaining: UInt64) throws {
        let limit = Self.tusPatchLimit
        if parts >= limit {
            throw VaultError(
                .badRequest,
                "the upload has taken \(parts) PATCHes, the most one upload may take; DELETE it and upload again in larger PATCHes",
                code: "TooManyPatches")
        }
        if parts == limit - 1, let declared, declared < remaining {
            throw VaultError(
                .badRequest,
                "this is the last PATCH (\(limit)) the upload may take: it must bring the remaining \(remaining) bytes, not \(declared)",
                code: "TooManyPatches")
        }
    }
}
