import DepotSigV4

/// Inputs shared by the published examples: the SigV4 test suite (`AKIDEXAMPLE`, 2015-08-30 12:36:00 UTC,
/// service `service`) and the S3 documentation (`AKIAIOSFODNN7EXAMPLE`, 2013-05-24 00:00:00 UTC, `us-east-1`).
enum Fixtures {
    static let suiteCredentials = SigV4Credentials(
        accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    /// 20150830T123600Z
    static let suiteTime = 1_440_938_160

    static let s3Credentials = SigV4Credentials(
        accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    /// 20130524T000000Z
    static let s3Time = 1_369_353_600
    static let s3Scope = CredentialScope(date: "20130524", region: "us-east-1", service: "s3")
    static let emptySHA256 = PayloadHash.emptySHA256Hex

    static let suiteSigner = SigV4Signer(credentials: suiteCredentials, region: "us-east-1", service: "service")
    static let s3Signer = SigV4Signer(credentials: s3Credentials, region: "us-east-1", service: "s3")
    static let s3Verifier = SigV4Verifier(region: "us-east-1")

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        guard case .sha256(let digest) = PayloadHash(body: bytes) else { fatalError("PayloadHash(body:) is .sha256") }
        return digest
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// The `Signature=` part of an Authorization header value.
    static func signature(in authorization: String) -> String? {
        authorization.split(separator: "Signature=").last.map(String.init)
    }

    static func header(_ name: String, in headers: [(name: String, value: String)]) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
