import DepotConfig
import DepotEngine

/// An account's `vault.retention`: every recording it uploads through the Vault API (legacy POST
/// and tus) is locked on arrival, so an unmodified Kerberos Agent's uploads cannot be deleted
/// before the period ends. The retention travels to the commit as the same lock request an S3 PUT
/// with x-amz-object-lock-* headers makes (ObjectLockRequest), so the engine applies it in one place.
extension VaultService {
    /// The system-metadata lock request for a recording `account` uploads now; empty without
    /// `vault.retention`. The bucket is made at runtime, so whether it has Object Lock is checked
    /// here, per upload: without it the upload is refused (409, logged) before any byte is read,
    /// rather than storing a recording that would silently stay unlocked. The period runs from
    /// the start of the upload.
    func recordingLockRequest(account: Account) throws -> [(String, String)] {
        guard let vault = account.vault, let retention = vault.retention else { return [] }
        guard let bucket = try engine.bucket(vault.bucket) else { throw VaultError(.notFound, "no bucket \(vault.bucket)") }
        guard bucket.objectLock != nil else {
            let message =
                "account \(account.name) has vault.retention but its bucket \(vault.bucket) has no Object Lock;"
                + " the recording was not stored"
            logger.error("\(message)")
            throw VaultError(.conflict, message, code: "InvalidBucketState")
        }
        return ObjectLockRequest.pairs(
            mode: ObjectLockMode(name: retention.mode), retainUntil: retention.retainUntil(now: try engine.lockNow()),
            legalHold: nil)
    }
}
