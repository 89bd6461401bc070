import DepotHashing
import Synchronization

/// `<yyyyMMdd>/<region>/<service>/aws4_request`: what a signature is valid for.
public struct CredentialScope: Sendable, Hashable, CustomStringConvertible {
    public static let terminator = "aws4_request"

    public let date: String
    public let region: String
    public let service: String

    public init(date: String, region: String, service: String) {
        self.date = date
        self.region = region
        self.service = service
    }

    public init(time: AmzDate, region: String, service: String) {
        self.init(date: time.dateStamp, region: region, service: service)
    }

    /// The scope as it appears in the credential and in every string to sign.
    public var description: String { "\(date)/\(region)/\(service)/\(Self.terminator)" }
}

/// The derived key `kSigning` = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
///
/// It is what actually signs: the secret itself never touches a string to sign, and a key leaked from one day,
/// region and service is useless for any other. Its description is redacted so it cannot end up in a log.
public struct SigningKey: Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(secretKey: String, scope: CredentialScope) {
        let date = HMAC.sha256(key: Array("AWS4\(secretKey)".utf8), message: scope.date)
        let region = HMAC.sha256(key: date, message: scope.region)
        let service = HMAC.sha256(key: region, message: scope.service)
        self.bytes = HMAC.sha256(key: service, message: CredentialScope.terminator)
    }

    /// HMAC-SHA256 of a string to sign (or, for browser POST uploads, of the base64 policy document).
    public func sign(_ stringToSign: String) -> [UInt8] {
        HMAC.sha256(key: bytes, message: stringToSign)
    }

    /// The signature as it is sent: lower-case hex.
    public func signatureHex(_ stringToSign: String) -> String {
        Hex.encode(sign(stringToSign))
    }

    /// HMAC-SHA256 of a string to sign already written as bytes (``CanonicalBytes``).
    func sign(bytes message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { HMAC.sha256(key: bytes, message: $0) }
    }

    /// Whether `signature` (hex, either case) is this key's signature of `stringToSign`, compared in constant time.
    public func isValidSignature(_ signature: String, of stringToSign: String) -> Bool {
        isValidSignature(signature, ofBytes: Array(stringToSign.utf8))
    }

    /// The same check for a string to sign written as bytes: the verifier's path, with no string in between.
    func isValidSignature(_ signature: String, ofBytes stringToSign: [UInt8]) -> Bool {
        guard let provided = CanonicalBytes.decodeHex32(signature) else { return false }
        return constantTimeEquals(provided, sign(bytes: stringToSign))
    }

    public var description: String { "SigningKey(redacted)" }
}

/// Remembers derived signing keys, because every request of a day from one account derives the same key and the
/// derivation costs four HMACs. Thread-safe; bounded by forgetting everything when full, which costs one
/// re-derivation per active key and happens about once a day when the dates roll over.
public final class SigningKeyCache: Sendable {
    /// The process-wide cache the verifier and signers use unless given another.
    public static let shared = SigningKeyCache()

    private struct Entry: Hashable {
        var secretKey: String
        var scope: CredentialScope
    }

    private let capacity: Int
    private let keys = Mutex<[Entry: SigningKey]>([:])

    public init(capacity: Int = 1024) {
        self.capacity = max(1, capacity)
    }

    public func key(secretKey: String, scope: CredentialScope) -> SigningKey {
        let entry = Entry(secretKey: secretKey, scope: scope)
        if let cached = keys.withLock({ $0[entry] }) { return cached }
        let derived = SigningKey(secretKey: secretKey, scope: scope)
        keys.withLock { keys in
            if keys.count >= capacity { keys.removeAll(keepingCapacity: true) }
            keys[entry] = derived
        }
        return derived
    }

    /// How many keys are cached; for tests and metrics.
    public var count: Int { keys.withLock { $0.count } }
}
