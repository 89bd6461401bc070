import DepotHashing
import DepotStorage

/// Camera agents' heartbeats (Kerberos Vault API): the last time each device key was seen, what
/// it said about itself, and the accounts it belongs to. Index-only state; a rebuilt index starts
/// with no devices.
///
/// Why owners: heartbeats carry no credentials (the agent sends none), so a heartbeat alone
/// cannot say whose camera it is. A device belongs to the accounts that named it in an
/// authenticated request (an upload's `X-Kerberos-Storage-Device`, or a heartbeat that does carry
/// account headers), and each account lists only its own devices.
public struct DeviceRecord: Sendable {
    public var key: String
    public var lastSeen: Int64
    public var info: [(String, String)]
    /// Access keys of the accounts the device belongs to.
    public var owners: [String]

    /// lastSeen, info, then the owners (absent in records written before owners existed).
    func encoded() -> [UInt8] {
        var w = BinaryWriter()
        w.signed(lastSeen)
        w.pairs(info)
        w.varint(owners.count)
        for owner in owners { w.string(owner) }
        return w.bytes
    }

    static func decode(key: String, _ value: UnsafeRawBufferPointer) throws -> DeviceRecord {
        var r = BinaryReader(value)
        var record = DeviceRecord(key: key, lastSeen: try r.signed(), info: try r.pairs(), owners: [])
        if !r.isAtEnd {
            for _ in 0..<(try r.int()) { record.owners.append(try r.string()) }
        }
        return record
    }
}

extension Engine {
    /// A heartbeat: the device is seen now and says `info`; `owner` is the account whose
    /// credentials came with it, if any.
    public func recordHeartbeat(device: String, info: [(String, String)], owner: String? = nil) async throws {
        let table = indexStore.table(.devices)
        let now = Engine.now()
        do {
            try await committer.submit { txn, _ in
                let key = Array(device.utf8)
                var record =
                    try txn.get(table, key).map { value in try value.withUnsafeBytes { try DeviceRecord.decode(key: device, $0) }
                    }
                    ?? DeviceRecord(key: device, lastSeen: now, info: [], owners: [])
                record.lastSeen = now
                record.info = info
                if let owner, !record.owners.contains(owner) { record.owners.append(owner) }
                try txn.put(table, key, record.encoded())
            }
        } catch { throw EngineError.wrap(error) }
    }

    /// Makes `device` one of `owner`'s devices (an authenticated upload named it). Writes only
    /// when the device is not the owner's yet, so a camera's uploads cost one read.
    public func bindDevice(_ device: String, owner: String) async throws {
        let table = indexStore.table(.devices)
        let key = Array(device.utf8)
        let known = try indexStore.read { txn in
            try txn.get(table, key).map { value in try value.withUnsafeBytes { try DeviceRecord.decode(key: device, $0) } }
        }
        if known?.owners.contains(owner) == true { return }
        let now = Engine.now()
        do {
            try await committer.submit { txn, _ in
                var record =
                    try txn.get(table, key).map { value in try value.withUnsafeBytes { try DeviceRecord.decode(key: device, $0) }
                    }
                    ?? DeviceRecord(key: device, lastSeen: now, info: [], owners: [])
                guard !record.owners.contains(owner) else { return }
                record.owners.append(owner)
                try txn.put(table, key, record.encoded())
            }
        } catch { throw EngineError.wrap(error) }
    }

    /// Every device, or with `owner` only that account's devices.
    public func devices(owner: String? = nil) throws -> [DeviceRecord] {
        let table = indexStore.table(.devices)
        return try indexStore.read { txn in
            var out: [DeviceRecord] = []
            try txn.scan(table) { key, value in
                let record = try DeviceRecord.decode(key: String(decoding: key, as: UTF8.self), value)
                if owner == nil || record.owners.contains(owner!) { out.append(record) }
                return true
            }
            return out
        }
    }

    /// MD5 of an upload's parts in order, read back from the segments (tus uploads arrive in
    /// several requests, possibly across restarts, so no single request saw every byte).
    public func uploadContentMD5(uploadId id: String) throws -> [UInt8] {
        let (partTable, chunkTable) = (indexStore.table(.parts), chunks)
        let prefix = Tables.partPrefix(upload: id)
        // Encrypted parts are read back decrypted (their tag checked), by their chunk addresses.
        let encryption = try upload(id).flatMap { ObjectEncryption(metadata: $0.metadata.systemMetadata) }
        if let encryption {
            let domain = try encryptionDomain(existing: encryption.keyId)
            let refs: [(ChunkRef, RecordLocation)] = try indexStore.read { txn in
                var out: [(ChunkRef, RecordLocation)] = []
                try txn.scan(partTable, from: prefix) { key, value in
                    guard key.starts(with: prefix) else { return false }
                    for ref in try PartRecord.decode(value).manifest {
                        guard let entry = try txn.get(chunkTable, ref.hash).map(ChunkEntry.decode) else {
                            throw EngineError.corrupt("a chunk of upload \(id) is missing")
                        }
                        out.append((ref, entry.location))
                    }
                    return true
                }
                return out
            }
            let md5 = StreamingDigest(.md5)
            for (ref, location) in refs {
                let payload = try dataPathStore.readPayload(location)
                do {
                    md5.update(try domain.open(payload, address: ref.hash))
                } catch { throw EngineError.io("a chunk of upload \(id) at \(location) fails its authentication tag") }
            }
            return md5.finalize()
        }
        let locations: [RecordLocation] = try indexStore.read { txn in
            var out: [RecordLocation] = []
            try txn.scan(partTable, from: prefix) { key, value in
                guard key.starts(with: prefix) else { return false }
                for ref in try PartRecord.decode(value).manifest {
                    guard let entry = try txn.get(chunkTable, ref.hash).map(ChunkEntry.decode) else {
                        throw EngineError.corrupt("a chunk of upload \(id) is missing")
                    }
                    out.append(entry.location)
                }
                return true
            }
            return out
        }
        let md5 = StreamingDigest(.md5)
        var buffer = [UInt8](repeating: 0, count: Int(locations.map(\.length).max() ?? 0))
        for location in locations {
            try buffer.withUnsafeMutableBytes { out in
                let slice = UnsafeMutableRawBufferPointer(rebasing: out[0..<Int(location.length)])
                try dataPathStore.read(location, into: slice)
                md5.update(UnsafeRawBufferPointer(slice))
            }
        }
        return md5.finalize()
    }
}
