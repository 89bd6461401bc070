import DepotHashing
import DepotStorage
import Glibc

/// What `depot fsck` found in cluster mode (README "Pack compaction and fsck in cluster mode").
public struct PackFsckReport: Sendable {
    public var packs = 0
    public var packBytes: UInt64 = 0
    public var chunks = 0
    public var objects = 0
    public var recordsVerified = 0
    public var bytesVerified: UInt64 = 0
    public var problems: [String] = []
    /// Facts that are not problems: young unreferenced packs (an upload between its pack and its
    /// commit), packs retired by compaction waiting for their grace period, orphans removed.
    public var notes: [String] = []
    /// One line per pack: its size, live bytes and live ratio.
    public var liveSummary: [String] = []
    public var isClean: Bool { problems.isEmpty }
}

/// How a cluster fsck runs.
public struct PackFsckOptions: Sendable {
    /// Read back every chunk record the index points at (else `samplePerPack` of each pack).
    public var full = false
    public var samplePerPack = 4
    /// Check each chunk's SHA-256 (off when encryption keys are configured: an encrypted chunk's
    /// hash is an address, not its SHA-256; its record's CRC is still checked).
    public var verifyContentHash = true
    /// A pack no index row points into, older than this, is an orphan (a problem); younger, an
    /// upload may still be committing it (a note).
    public var orphanAgeSeconds: Double = 3600
    public var removeOrphans = false

    public init() {}
}

extension Engine {
    /// Checks the shared index against the pack store without stopping the cluster (it reads the
    /// index in snapshots and the store; it takes no lock and writes nothing unless told to remove
    /// orphans): every chunk location points into a pack that exists and is long enough, chunk
    /// records read back intact (CRC, hash), objects name chunks the index has, unreferenced
    /// packs are orphans, and the live ratio of each pack.
    public static func fsckPacks(
        index: any IndexStore, packs store: any PackMaintenanceStore, options: PackFsckOptions,
        progress: (String) -> Void = { _ in }
    ) throws -> PackFsckReport {
        var report = PackFsckReport()
        let (objectTable, chunkTable, segmentTable) = (index.table(.objects), index.table(.chunks), index.table(.segments))
        let versionTable = index.table(.versions)
        var chunksByPack: [LiveUnit: [(hash: [UInt8], location: RecordLocation)]] = [:]
        var liveByPack: [LiveUnit: UInt64] = [:]
        var missingPack: [[UInt8]: String] = [:]
        var referenced: Set<LiveUnit> = []
        var rows: Set<LiveUnit> = []
        var retired: Set<LiveUnit> = []
        var indexed: [(hash: [UInt8], location: RecordLocation)] = []
        var held: [(name: String, chunks: [[UInt8]], commit: RecordLocation)] = []
        try index.read { txn in
            try txn.scan(segmentTable) { key, _ in
                if let unit = PackRetirement.unit(ofKey: key) {
                    retired.insert(unit)
                } else if key.count == 8, let unit = LiveUnit(indexKey: key) {
                    rows.insert(unit)
                }
                return true
            }
            try txn.scan(chunkTable) { key, value in
                report.chunks += 1
                indexed.append((Array(key), try ChunkEntry.decode(Array(value)).location))
                return true
            }
            try txn.scan(objectTable) { key, value in
                report.objects += 1
                guard let (bucket, objectKey) = ObjectKeyLayout.name(indexKey: key, value: value) else { return true }
                let record = try ObjectRecord.decodeValue(value)
                held.append(("\(bucket)/\(objectKey)", record.heldChunks.map(\.hash), record.commitLocation))
                return true
            }
            try txn.scan(versionTable) { key, value in
                guard let objectKey = try ObjectRecord.storedKey(inValue: value) else { return true }
                let bucket = String(decoding: key.prefix { $0 != 0 }, as: UTF8.self)
                let record = try ObjectRecord.decodeValue(value)
                let current = try txn.object(objectTable, bucket: bucket, key: objectKey, withManifest: false)
                if current?.effectiveOrder == record.effectiveOrder { return true }
                held.append(
                    (
                        "\(bucket)/\(objectKey) (version \(record.effectiveOrder))", record.heldChunks.map(\.hash),
                        record.commitLocation
                    ))
                return true
            }
        }
        progress("\(report.chunks) chunks and \(report.objects) objects in the index")

        // The store after the index: every pack the snapshot points into was stored before its
        // commit, so it is in this listing unless it was lost; a pack written since is young.
        let listed = try store.listPacks()
        let listedAt = Double(Engine.now()) / 1000
        var packs: [LiveUnit: StoredPack] = [:]
        for pack in listed { packs[pack.unit] = pack }
        report.packs = packs.count
        report.packBytes = listed.reduce(UInt64(0)) { $0 + UInt64($1.size) }
        progress("\(packs.count) packs in the store")
        for (hash, location) in indexed {
            let unit = LiveUnit(location)
            referenced.insert(unit)
            let start = Int(location.offset & 0xffff_ffff)
            let end = start + RecordHeader.size + Int(location.length)
            guard let pack = packs[unit] else {
                missingPack[hash] = "chunk \(Hex.encode(hash)) points into pack \(unit), which is not in the store"
                continue
            }
            guard end <= pack.size else {
                missingPack[hash] =
                    "chunk \(Hex.encode(hash)) at \(unit)+\(start) ends at byte \(end), past the end of pack \(unit) (\(pack.size) bytes)"
                continue
            }
            chunksByPack[unit, default: []].append((hash, location))
            liveByPack[unit, default: 0] += UInt64(RecordHeader.size) + UInt64(location.length)
        }

        // Read the records back: every one (--full) or a sample of each pack, from the store
        // itself (not a node's cache), one Range GET each.
        var damaged: [[UInt8]: String] = [:]
        for (unit, entries) in chunksByPack.sorted(by: { $0.key < $1.key }) {
            let chosen = options.full ? entries : Array(entries.shuffled().prefix(max(1, options.samplePerPack)))
            for (hash, location) in chosen.sorted(by: { $0.location.offset < $1.location.offset }) {
                let start = Int(location.offset & 0xffff_ffff)
                let bytes: [UInt8]
                do {
                    bytes = try store.readStored(unit, start..<start + RecordHeader.size + Int(location.length))
                } catch {
                    damaged[hash] = "chunk \(Hex.encode(hash)) in pack \(unit) cannot be read: \(error)"
                    continue
                }
                report.recordsVerified += 1
                report.bytesVerified += UInt64(bytes.count)
                if let problem = Self.checkRecord(bytes, hash: hash, length: Int(location.length), options: options) {
                    damaged[hash] = "chunk \(Hex.encode(hash)) at \(unit)+\(start): \(problem)"
                }
            }
        }
        progress("\(report.recordsVerified) chunk records read back")

        // Objects (and versions, and multipart parts) named by what they lose.
        let broken = missingPack.merging(damaged) { first, _ in first }
        var named: Set<[UInt8]> = []
        for (name, hashes, commitLocation) in held {
            for hash in hashes {
                guard let problem = broken[hash] else { continue }
                named.insert(hash)
                report.problems.append("object \(name): \(problem)")
            }
            let commit = LiveUnit(commitLocation)
            guard commit.isPack else { continue }
            referenced.insert(commit)
            if packs[commit] == nil, !retired.contains(commit) {
                report.problems.append(
                    "object \(name): its commit record's pack \(commit) is not in the store (an index rebuild from the packs would lose it)"
                )
            }
        }
        // Damage no object holds (a multipart part's chunk, one whose last reference went meanwhile).
        for (hash, problem) in broken.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) where !named.contains(hash) {
            report.problems.append(problem)
        }

        // Packs nothing in the index points into.
        for pack in listed.sorted(by: { $0.unit < $1.unit }) {
            let unit = pack.unit
            if referenced.contains(unit) || rows.contains(unit) { continue }
            if retired.contains(unit) {
                report.notes.append("pack \(unit): retired by compaction, deleted after its grace period")
                continue
            }
            let age = listedAt - pack.modified
            guard age >= options.orphanAgeSeconds else {
                report.notes.append(
                    "pack \(unit): \(pack.size) bytes, \(Int(age)) s old, not in the index yet (an upload committing)")
                continue
            }
            if options.removeOrphans {
                try store.deletePack(unit)
                store.forgetCached(unit)
                report.notes.append(
                    "pack \(unit): orphan (\(pack.size) bytes, \(Int(age)) s old, no index row points into it): removed")
            } else {
                report.problems.append(
                    "pack \(unit): orphan: \(pack.size) bytes, \(Int(age)) s old, no index row points into it "
                        + "(a writer stopped before its commit); `depot fsck --remove-orphans` deletes it")
            }
        }

        for pack in listed.sorted(by: { $0.unit < $1.unit }) {
            let live = liveByPack[pack.unit] ?? 0
            let ratio = pack.size > 0 ? Double(live) / Double(pack.size) : 0
            report.liveSummary.append(
                "pack \(pack.unit): \(pack.size) bytes, \(live) live (\(Int((ratio * 100).rounded()))%)")
        }
        return report
    }

    /// Why a record read back is not the chunk the index says (nil: it is).
    static func checkRecord(_ bytes: [UInt8], hash: [UInt8], length: Int, options: PackFsckOptions) -> String? {
        guard bytes.count == RecordHeader.size + length else {
            return "the pack ends after \(bytes.count) of the record's \(RecordHeader.size + length) bytes"
        }
        return bytes.withUnsafeBytes { raw -> String? in
            let head = UnsafeRawBufferPointer(rebasing: raw[0..<RecordHeader.size])
            let payload = UnsafeRawBufferPointer(rebasing: raw[RecordHeader.size...])
            guard let header = RecordHeader.decode(head) else { return "no record header there" }
            guard header.kind == .chunk, Int(header.length) == length else {
                return "the record there is not this chunk's (kind \(header.kind), \(header.length) bytes)"
            }
            guard RecordHeader.verify(header: head, payload: payload, crc: header.crc) else {
                return "its record's CRC does not check (damaged bytes in the store)"
            }
            guard header.hash == hash else { return "the record there holds chunk \(Hex.encode(header.hash))" }
            if options.verifyContentHash, DigestAlgorithm.sha256.hash(payload) != hash {
                return "its bytes do not match its SHA-256"
            }
            return nil
        }
    }
}
