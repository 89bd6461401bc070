import DepotStorage

/// One entry of the event outbox: what happened to which object, written in the same
/// transaction as the change itself, so an acknowledged change always has its event and a
/// change that did not happen never does. Its key is the sequence number of the change's log
/// record: unique, increasing across restarts, and the S3 format's `sequencer`.
public struct EventRecord: Sendable, Equatable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case created = 1
        case removed = 2
        case replicated = 3
        case replicationFailed = 4
        case transitioned = 5

        /// The names used in configuration (`events.sinks[].match.events`).
        public var name: String {
            switch self {
            case .created: return "created"
            case .removed: return "removed"
            case .replicated: return "replicated"
            case .replicationFailed: return "replicationFailed"
            case .transitioned: return "transitioned"
            }
        }

        public init?(name: String) {
            guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = kind
        }
    }

    public var sequence: UInt64
    public var kind: Kind
    /// How it happened, in S3's terms: Put, Post, Copy, CompleteMultipartUpload, Delete,
    /// Expired… (the Vault door reports Put for its uploads, with `source` "vault").
    public var operation: String
    /// Milliseconds since the epoch.
    public var time: Int64
    public var bucket: String
    public var key: String
    public var size: UInt64
    public var etag: String
    public var userMetadata: [(String, String)]
    /// The access key of the account that made the change (empty for Depot's own work).
    public var principal: String
    /// Which door: "s3", "vault", or "depot" for retention, transition and replication.
    public var source: String
    /// Kerberos' `request`: "persist" for uploads, "ondemand" for on-demand replication.
    public var request: String
    /// The tier of a replication or transition event.
    public var tier: String
    /// The last error of a failed replication.
    public var detail: String

    public init(
        kind: Kind, operation: String, bucket: String, key: String, size: UInt64 = 0, etag: String = "",
        userMetadata: [(String, String)] = [], principal: String = "", source: String = "s3", request: String = "persist",
        tier: String = "", detail: String = "", time: Int64 = 0, sequence: UInt64 = 0
    ) {
        self.sequence = sequence
        self.kind = kind
        self.operation = operation
        self.time = time
        self.bucket = bucket
        self.key = key
        self.size = size
        self.etag = etag
        self.userMetadata = userMetadata
        self.principal = principal
        self.source = source
        self.request = request
        self.tier = tier
        self.detail = detail
    }

    public static func == (a: EventRecord, b: EventRecord) -> Bool {
        a.encoded() == b.encoded() && a.sequence == b.sequence
    }

    static func tableKey(_ sequence: UInt64) -> [UInt8] { withUnsafeBytes(of: sequence.bigEndian) { Array($0) } }

    static func sequence(of key: UnsafeRawBufferPointer) -> UInt64 {
        key.count == 8 ? UInt64(bigEndian: key.loadUnaligned(as: UInt64.self)) : 0
    }

    func encoded() -> [UInt8] {
        var w = BinaryWriter()
        w.u8(1)  // format version
        w.u8(kind.rawValue)
        w.string(operation)
        w.signed(time)
        w.string(bucket)
        w.string(key)
        w.varint(size)
        w.string(etag)
        w.pairs(userMetadata)
        w.string(principal)
        w.string(source)
        w.string(request)
        w.string(tier)
        w.string(detail)
        return w.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, sequence: UInt64) throws -> EventRecord {
        var r = BinaryReader(bytes)
        guard try r.u8() == 1 else { throw StorageError.corrupt("unknown event record format") }
        guard let kind = Kind(rawValue: try r.u8()) else { throw StorageError.corrupt("unknown event kind") }
        var event = EventRecord(kind: kind, operation: try r.string(), bucket: "", key: "")
        event.time = try r.signed()
        event.bucket = try r.string()
        event.key = try r.string()
        event.size = try r.varint()
        event.etag = try r.string()
        event.userMetadata = try r.pairs()
        event.principal = try r.string()
        event.source = try r.string()
        event.request = try r.string()
        event.tier = try r.string()
        event.detail = try r.string()
        event.sequence = sequence
        return event
    }
}

/// How a change came about, as the front door that made it says: the operation name and door
/// for the event it raises.
public struct ChangeOrigin: Sendable {
    public var operation: String
    public var source: String
    public var request: String
    /// The access key that asked for the change (empty: the object's owner, or Depot).
    public var principal: String

    public init(operation: String, source: String = "s3", request: String = "persist", principal: String = "") {
        self.operation = operation
        self.source = source
        self.request = request
        self.principal = principal
    }

    public static func s3(_ operation: String, principal: String = "") -> ChangeOrigin {
        ChangeOrigin(operation: operation, principal: principal)
    }
    public static func vault(_ operation: String, principal: String = "") -> ChangeOrigin {
        ChangeOrigin(operation: operation, source: "vault", principal: principal)
    }
    /// Depot's own work: retention, transition.
    public static func lifecycle(_ operation: String) -> ChangeOrigin { ChangeOrigin(operation: operation, source: "depot") }
}
