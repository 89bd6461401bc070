import AsyncHTTPClient
import DepotConfig
import DepotEngine
import Foundation
import NIOCore

/// A backend that receives whole objects. Implementations stream from the segments and verify
/// the copy before returning; a thrown error means the copy cannot be trusted.
public protocol TierClient: Sendable {
    var settings: TierSettings { get }
    /// Writes the object (bytes and metadata) under its remote key, and verifies it.
    func upload(_ reader: ObjectReader, bucket: String, key: String) async throws
    /// Streams a byte range of the object's copy (read-through of transitioned objects).
    func download(bucket: String, key: String, range: Range<UInt64>) -> AsyncThrowingStream<[UInt8], Error>
    /// Deletes the object's copy (retention on tiers); deleting what is not there succeeds.
    func delete(bucket: String, key: String) async throws
    /// Writes, reads back and deletes a probe object; throws with what failed.
    func check() async throws
    /// Writes an encrypted object's sealed copy (`replicate.encryptedObjects: ciphertext`,
    /// DepotEngine SealedCopy.swift): `reader` opened with `sealed: true`. S3 tiers only.
    func uploadSealed(_ reader: ObjectReader, trailer: [UInt8], bucket: String, key: String) async throws
}

extension TierClient {
    /// The configuration allows ciphertext copies to s3 tiers only; a tier kind without them
    /// refuses this object for good rather than storing plaintext in its place.
    public func uploadSealed(_ reader: ObjectReader, trailer: [UInt8], bucket: String, key: String) async throws {
        throw TierError(
            "a \(settings.kind.rawValue) tier cannot hold ciphertext copies (replicate.encryptedObjects: ciphertext)",
            permanent: true)
    }
}

extension ObjectRecord {
    /// The metadata every tier copy carries, in one place for all tier kinds: the object's user
    /// metadata, and for a version of a versioned bucket the version id and (when set) its Object
    /// Lock mode, retain-until date and legal hold, so a copy read back from the tier alone says
    /// which version it is. Each tier kind adds its own prefix (`x-amz-meta-`, `user.meta.`…).
    /// A user's own `depot-*` entries of those names are left out: the record's values win.
    public var replicatedMetadata: [(String, String)] {
        var depot: [(String, String)] = []
        if let versionId { depot.append(("depot-version-id", versionId)) }
        if let mode = lockModeName { depot.append(("depot-lock-mode", mode)) }
        if let until = retainUntilText { depot.append(("depot-retain-until", until)) }
        if lock.legalHold { depot.append(("depot-legal-hold", "ON")) }
        guard !depot.isEmpty else { return userMetadata }
        let names = Set(depot.map(\.0))
        return userMetadata.filter { !names.contains($0.0) } + depot
    }
}

extension ObjectRecord {
    /// The version's Object Lock mode as S3 names it; nil when it has none.
    public var lockModeName: String? {
        switch lock.mode {
        case 1: return "GOVERNANCE"
        case 2: return "COMPLIANCE"
        default: return nil
        }
    }

    /// The version's retain-until date as S3 writes it (ISO 8601, UTC, milliseconds); nil when unset.
    public var retainUntilText: String? {
        guard lock.retainUntil > 0 else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(lock.retainUntil) / 1000))
    }
}

/// A tier failure with the detail an operator needs (what was attempted, what came back).
///
/// `permanent` marks a refusal of this one object that no retry can change (a name the tier
/// cannot hold, an object too large for it, a 4xx about the request): that copy is marked FAILED
/// with the reason at once, and the tier's circuit breaker does not count it, so one writer's
/// odd keys cannot stall the tier for everybody. Everything else (timeouts, 5xx, auth, a full
/// or unmounted share) is the tier's trouble: retried with backoff, and counted by the breaker.
public struct TierError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public let permanent: Bool
    public init(_ description: String, permanent: Bool = false) {
        self.description = description
        self.permanent = permanent
    }

    /// A cloud's refusal of an upload, permanent when its status is about this request: a 4xx
    /// other than 401/403 (credentials), 404 (the container or bucket is missing: the tier's
    /// setup), 408 (timeout), 409 (a conflict that may clear) and 429 (throttling).
    public static func refused(_ description: String, status: Int) -> TierError {
        let transient: Set<Int> = [401, 403, 404, 408, 409, 429]
        return TierError(description, permanent: (400...499).contains(status) && !transient.contains(status))
    }

    /// Whether `error` is a permanent refusal of one object (see `permanent`).
    public static func isPermanent(_ error: Error) -> Bool { (error as? TierError)?.permanent ?? false }
}

/// The object's pieces as an async sequence of byte buffers, for streaming request bodies: read
/// through `ObjectReader.bytes` (the local chunks, or the tier holding an evicted object), so a
/// copy of an evicted object is the object's bytes or an error, never an empty body.
struct ObjectPieces: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let reader: ObjectReader
    let range: Range<UInt64>
    /// Captured when the sequence is made, in the task that carries out the copy: the HTTP
    /// client may iterate the body from a task of its own, which would not see the task-local.
    let limiter: BandwidthLimiter?

    init(reader: ObjectReader, range: Range<UInt64>) {
        self.reader = reader
        self.range = range
        self.limiter = BandwidthLimiter.current
    }

    struct Iterator: AsyncIteratorProtocol {
        let reader: ObjectReader
        let range: Range<UInt64>
        let limiter: BandwidthLimiter?
        /// Opened on the first call, so that a source that cannot serve fails the copy there.
        var bytes: ObjectBytes.AsyncIterator?

        mutating func next() async throws -> ByteBuffer? {
            var iterator = try bytes ?? reader.bytes(range).makeAsyncIterator()
            let next = try await iterator.next()
            bytes = iterator
            guard let piece = next else { return nil }
            try await limiter?.take(piece.count)
            var buffer = ByteBufferAllocator().buffer(capacity: piece.count)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: piece.count) { out in
                try piece.copy(into: UnsafeMutableRawBufferPointer(rebasing: out[0..<piece.count]))
                return piece.count
            }
            return buffer
        }
    }

    func makeAsyncIterator() -> Iterator { Iterator(reader: reader, range: range, limiter: limiter) }
}

/// A ranged GET's body as its reader takes it (read-through of transitioned objects): the request
/// goes out on the first pull and each later pull takes the next buffer off the connection, so a
/// slow reader slows the download instead of the whole range piling up in memory, and a reader
/// that stops (a client hung up) stops the download.
func rangedDownload(
    _ what: String, range: Range<UInt64>, send: @escaping @Sendable () async throws -> HTTPClientResponse
) -> AsyncThrowingStream<[UInt8], Error> {
    let download = RangedDownload(what: what, isEmpty: range.isEmpty, send: send)
    return AsyncThrowingStream(unfolding: { try await download.next() })
}

/// One download's state; the stream calls `next` from one reader at a time.
private final class RangedDownload: @unchecked Sendable {
    let what: String
    let send: @Sendable () async throws -> HTTPClientResponse
    private var started: Bool
    private var body: HTTPClientResponse.Body.AsyncIterator?

    init(what: String, isEmpty: Bool, send: @escaping @Sendable () async throws -> HTTPClientResponse) {
        self.what = what
        self.send = send
        self.started = isEmpty  // an empty range needs no request
    }

    func next() async throws -> [UInt8]? {
        if !started {
            started = true
            let response = try await send()
            guard response.status.code == 206 || response.status.code == 200 else {
                throw TierError("\(what): HTTP \(response.status.code)")
            }
            body = response.body.makeAsyncIterator()
        }
        guard var iterator = body else { return nil }
        let buffer = try await iterator.next()
        body = buffer == nil ? nil : iterator
        return buffer.map { Array($0.readableBytesView) }
    }
}
