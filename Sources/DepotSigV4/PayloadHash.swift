import DepotHashing

/// What `x-amz-content-sha256` (the last line of the canonical request) says about the body, and therefore what
/// the receiver must still check once the headers are verified.
public enum PayloadHash: Sendable, Equatable {
    /// The body's SHA-256: the receiver hashes the body as it streams and refuses it on a mismatch.
    case sha256([UInt8])
    /// `UNSIGNED-PAYLOAD`: the body is not covered (presigned URLs, or TLS-protected uploads).
    case unsigned
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: `aws-chunked` body, each chunk signed (``ChunkSignatureChain``).
    case streamingSigned
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks, then signed trailing headers.
    case streamingSignedWithTrailer
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: `aws-chunked` body without chunk signatures, with a trailer
    /// (usually a checksum) that is not signed either.
    case streamingUnsignedWithTrailer

    public static let unsignedValue = "UNSIGNED-PAYLOAD"
    public static let streamingSignedValue = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    public static let streamingSignedWithTrailerValue = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    public static let streamingUnsignedWithTrailerValue = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    /// Hex SHA-256 of the empty string: the payload hash of every body-less request.
    public static let emptySHA256Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Reads a header value; nil for anything else, including the SigV4a (`…ECDSA…`) streaming modes.
    public init?(_ value: String) {
        switch value {
        case Self.unsignedValue: self = .unsigned
        case Self.streamingSignedValue: self = .streamingSigned
        case Self.streamingSignedWithTrailerValue: self = .streamingSignedWithTrailer
        case Self.streamingUnsignedWithTrailerValue: self = .streamingUnsignedWithTrailer
        default:
            guard let bytes = CanonicalBytes.decodeHex32(value) else { return nil }
            self = .sha256(bytes)
        }
    }

    /// The hash of a whole body held in memory (SQS messages, small tier requests).
    public init(body: [UInt8]) {
        self = .sha256(DigestAlgorithm.sha256.hash(body))
    }

    /// The header value, as a signer sends it.
    public var value: String {
        switch self {
        case .sha256(let bytes): return Hex.encode(bytes)
        case .unsigned: return Self.unsignedValue
        case .streamingSigned: return Self.streamingSignedValue
        case .streamingSignedWithTrailer: return Self.streamingSignedWithTrailerValue
        case .streamingUnsignedWithTrailer: return Self.streamingUnsignedWithTrailerValue
        }
    }

    /// Whether the body arrives in `aws-chunked` framing.
    public var isStreaming: Bool {
        switch self {
        case .streamingSigned, .streamingSignedWithTrailer, .streamingUnsignedWithTrailer: return true
        case .sha256, .unsigned: return false
        }
    }
}
