import DepotHashing
import DepotStorage

/// Camera agents' heartbeats (Kerberos Vault API): the last time each device key was seen and
/// what it said about itself. Index-only state; a rebuilt index starts with no devices.
public struct DeviceRecord: Sendable {
    public var key: String
    public var lastSeen: Int64
    public var info: [(String, String)]
}

extension Engine {
    public func recordHeartbeat(device: String, info: [(String, String)]) async throws {
        let table = environment.table("devices")
        var w = BinaryWriter()
        w.signed(Engine.now())
        w.pairs(info)
        let value = w.bytes
        do {
            try await committer.submit { txn, _ in try txn.put(table, Array(device.utf8), value) }
        } catch { throw EngineError.wrap(error) }
    }

    public func devices() throws -> [DeviceRecord] {
        let table = environment.table("devices")
        return try environment.read { txn in
            var out: [DeviceRecord] = []
            try txn.scan(table) { key, value in
                var r = BinaryReader(value)
                out.append(DeviceRecord(key: String(decoding: key, as: UTF8.self), lastSeen: try r.signed(), info: try r.pairs()))
                return true
            }
            return out
        }
    }

    /// MD5 of an upload's parts in order, read back from the segments (tus uploads arrive in
    /// several requests, possibly across restarts, so no single request saw every byte).
    public func uploadContentMD5(uploadId id: String) throws -> [UInt8] {
        let (partTable, chunkTable) = (environment.table("parts"), chunks)
        let prefix = Tables.partPrefix(upload: id)
        let locations: [RecordLocation] = try environment.read { txn in
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
                try store.read(location, into: slice)
                md5.update(UnsafeRawBufferPointer(slice))
            }
        }
        return md5.finalize()
    }
}
