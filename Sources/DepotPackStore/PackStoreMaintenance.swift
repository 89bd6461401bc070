import DepotSigV4
import DepotStorage
import Glibc
import NIOHTTP1

/// What compaction and `depot fsck` ask of the object store beyond the data path: the list of
/// packs (ListObjectsV2 under `<prefix>packs/`), a whole pack, and deleting one.
extension PackChunkStore: PackMaintenanceStore {
    public func listPacks() throws -> [StoredPack] { try client.listPacks() }

    public func downloadPack(_ unit: LiveUnit, size: Int) throws -> [UInt8] {
        let id = PackId(writer: unit.writer, sequence: unit.sequence)
        return try client.getRange(id, 0..<max(size, SegmentStore.fileHeaderSize))
    }

    public func deletePack(_ unit: LiveUnit) throws {
        try client.deletePack(PackId(writer: unit.writer, sequence: unit.sequence))
    }

    public func forgetCached(_ unit: LiveUnit) { cache.forget(PackId(writer: unit.writer, sequence: unit.sequence)) }

    /// Bytes `range` of a pack as the store holds it, bypassing this node's cache (fsck: a
    /// damaged byte in the store must not hide behind a cached good copy).
    public func readStored(_ unit: LiveUnit, _ range: Range<Int>) throws -> [UInt8] {
        try client.getRange(PackId(writer: unit.writer, sequence: unit.sequence), range)
    }
}

extension PackObjectClient {
    /// The listing's bound per page: ListObjectsV2 answers at most 1000 keys, ~300 bytes each.
    static let listPageLimit = 4 << 20

    /// Every pack object, walking ListObjectsV2's pages (each request bounded and retried);
    /// keys that are not `packs/<8 hex>/<8 hex>` are skipped.
    func listPacks() throws -> [StoredPack] {
        let prefix = settings.prefix + "packs/"
        var packs: [StoredPack] = []
        var token: String?
        repeat {
            var query = "list-type=2&prefix=" + SigV4Encoding.encode(prefix, keepSlash: false)
            if let token { query = "continuation-token=" + SigV4Encoding.encode(token, keepSlash: false) + "&" + query }
            let reply = try withRetries { try send(.GET, key: "", query: Self.sortedQuery(query), bodyLimit: Self.listPageLimit) }
            guard reply.status == 200 else { throw Self.refusal("GET \(settings.bucket)?list-type=2", reply) }
            let body = reply.body.map { String(buffer: $0) } ?? ""
            for entry in body.components(between: "<Contents>", and: "</Contents>").map(String.init) {
                guard let key = xmlValue("Key", in: entry), key.hasPrefix(prefix),
                    let unit = Self.packUnit(String(key.dropFirst(prefix.count))),
                    let size = xmlValue("Size", in: entry).flatMap({ Int($0) })
                else { continue }
                let modified = xmlValue("LastModified", in: entry).flatMap(Self.parseISO8601) ?? 0
                packs.append(StoredPack(unit: unit, size: size, modified: modified))
            }
            token = xmlValue("IsTruncated", in: body) == "true" ? xmlValue("NextContinuationToken", in: body) : nil
        } while token != nil
        return packs
    }

    /// Deletes a pack (a missing one counts as deleted).
    func deletePack(_ pack: PackId) throws {
        let key = pack.objectKey(prefix: settings.prefix)
        try withRetries {
            let reply = try send(.DELETE, key: key, bodyLimit: 64 << 10)
            guard reply.status == 204 || reply.status == 200 || reply.status == 404 else {
                throw Self.refusal("DELETE \(key)", reply)
            }
        }
    }

    /// `<writer>/<sequence>` (8 hex digits each) as a unit; nil for another shape.
    static func packUnit(_ name: String) -> LiveUnit? {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 8 }), let writer = UInt32(parts[0], radix: 16),
            let sequence = UInt32(parts[1], radix: 16), writer != 0
        else { return nil }
        return LiveUnit(writer: writer, sequence: sequence)
    }

    /// Query parameters in byte order of their names, as SigV4's canonical query wants them sent.
    static func sortedQuery(_ query: String) -> String {
        query.split(separator: "&").sorted().joined(separator: "&")
    }

    /// `2026-12-05T18:00:00.000Z` as seconds since 1970; nil for another shape.
    static func parseISO8601(_ text: String) -> Double? {
        let digits = text.split(whereSeparator: { "-T:.Z".contains($0) }).compactMap { Int($0) }
        guard digits.count >= 6 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(digits[0] - 1900)
        parts.tm_mon = Int32(digits[1] - 1)
        parts.tm_mday = Int32(digits[2])
        parts.tm_hour = Int32(digits[3])
        parts.tm_min = Int32(digits[4])
        parts.tm_sec = Int32(digits[5])
        return Double(timegm(&parts))
    }
}

extension String {
    /// The texts between each `open` and the next `close`.
    func components(between open: String, and close: String) -> [Substring] {
        var found: [Substring] = []
        var rest = self[...]
        while let start = rest.firstRange(of: open), let end = rest[start.upperBound...].firstRange(of: close) {
            found.append(rest[start.upperBound..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return found
    }
}
