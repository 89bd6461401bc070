import DepotStorage
import Dispatch
import Foundation
import Logging
import Synchronization
import Testing

@testable import DepotPackStore

/// The pack store against a real moto_server: records of mixed sizes go up in packs and come
/// back byte-identical through a cold cache; the cache keeps to its size and survives a restart;
/// concurrent readers of one block cost one GET; a store that is down or hangs fails the sync
/// in bounded time, and an unsynced record is still served from memory.
struct PackChunkStoreTests {
    static func settings(endpoint: String, cache: String, cacheSize: Int = 64 << 20) -> PackStoreSettings {
        var settings = PackStoreSettings(
            endpoint: endpoint, bucket: "chunks", accessKey: "pack-key", secretKey: "pack-secret", prefix: "depot/",
            node: "test-node", cachePath: cache, cacheSize: cacheSize)
        settings.packTargetSize = 256 << 10
        settings.cacheBlockSize = 64 << 10
        settings.maxBufferedBytes = 1 << 20
        settings.requestTimeoutSeconds = 10
        settings.syncTimeoutSeconds = 20
        settings.appendWaitSeconds = 20
        return settings
    }

    /// Deterministic bytes for record `index` (a different pattern per record).
    static func payload(_ index: Int, size: Int) -> [UInt8] {
        var state = UInt64(index) &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<size).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    static func append(_ store: PackChunkStore, _ bytes: [UInt8], kind: RecordKind = .chunk) throws -> RecordLocation {
        try bytes.withUnsafeBytes { try store.append(kind: kind, sequence: 0, hash: [], pieces: [$0]) }
    }

    @Test func recordsComeBackByteIdenticalThroughAColdCacheThatKeepsItsBound() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let moto = try MotoServer()
        defer { moto.stop() }
        let sizes = [0, 1, 55, 4095, 4096, 65_536, 70_001, 300_000, 12, 131_072, 9_999]
        var written: [(RecordLocation, [UInt8])] = []
        let writer = try PackChunkStore(settings: Self.settings(endpoint: moto.endpoint, cache: scratch.directory()))
        try writer.createBucketIfMissing()
        for index in 0..<60 {
            let bytes = Self.payload(index, size: sizes[index % sizes.count])
            written.append((try Self.append(writer, bytes), bytes))
        }
        // Before any sync: the record is served from memory, no GET.
        #expect(try writer.readPayload(written[59].0) == written[59].1)
        #expect(writer.rangeGetsSent == 0)
        #expect(try writer.syncDirty() > 0)
        #expect(writer.bufferedBytes == 0)
        #expect(try writer.syncDirty() == 0)
        let packs = Set(written.map { PackLocation($0.0).pack })
        #expect(packs.count > 3, "300 KB of records over a 256 KiB target make several packs")
        #expect(writer.packsStored == packs.count)
        writer.shutdown()

        // A fresh instance with a cold cache smaller than the data reads everything back.
        let cacheDirectory = scratch.directory()
        let cacheSize = 512 << 10
        let reader = try PackChunkStore(
            settings: Self.settings(endpoint: moto.endpoint, cache: cacheDirectory, cacheSize: cacheSize))
        for (location, bytes) in written {
            #expect(try reader.readPayload(location) == bytes)
            #expect(reader.cachedBytes <= cacheSize)
            #expect(Self.directoryBytes(cacheDirectory) <= cacheSize)
        }
        // A piece from the middle of a record that spans blocks.
        let (spanning, spanningBytes) = written.first { $0.1.count == 300_000 }!
        var piece = [UInt8](repeating: 0, count: 100_000)
        try piece.withUnsafeMutableBytes { try reader.read(spanning, skip: 150_000, into: $0) }
        #expect(piece == Array(spanningBytes[150_000..<250_000]))
        let getsBefore = reader.rangeGetsSent
        #expect(getsBefore > 0)
        let (last, lastBytes) = written.last!
        #expect(try reader.readPayload(last) == lastBytes)
        #expect(reader.rangeGetsSent == getsBefore, "the block just read is served from the cache")
        let held = reader.cachedBytes
        reader.shutdown()

        // A restart finds the cache as it was and reads from it without a GET.
        let restarted = try PackChunkStore(
            settings: Self.settings(endpoint: moto.endpoint, cache: cacheDirectory, cacheSize: cacheSize))
        defer { restarted.shutdown() }
        #expect(restarted.cachedBytes == held)
        #expect(try restarted.readPayload(last) == lastBytes)
        #expect(restarted.rangeGetsSent == 0)
    }

    @Test func aStoredPackIsASegmentFileTheScannerReads() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let moto = try MotoServer()
        defer { moto.stop() }
        let store = try PackChunkStore(settings: Self.settings(endpoint: moto.endpoint, cache: scratch.directory()))
        defer { store.shutdown() }
        try store.createBucketIfMissing()
        let records = (0..<5).map { Self.payload($0, size: 1000 * $0 + 3) }
        let locations = try records.map { try Self.append(store, $0, kind: $0.count > 3000 ? .chunk : .objectCommit) }
        try store.syncDirty()
        let pack = PackLocation(locations[0]).pack
        let whole = try store.client.getRange(pack, 0..<(1 << 20))
        let path = scratch.directory() + "/pack.seg"
        FileManager.default.createFile(atPath: path, contents: Data(whole))
        var scanned: [[UInt8]] = []
        var offsets: [Int] = []
        let summary = try SegmentScanner.scan(path: path, segment: pack.sequence) { record in
            scanned.append(record.payload)
            offsets.append(Int(record.location.offset))
        }
        #expect(scanned == records)
        #expect(offsets == locations.map { PackLocation($0).offset })
        #expect(summary.trailingBytes == 0)
    }

    @Test func packsThisNodeStoredAreReadFromItsCacheWithoutAGetAndNotWhenWriteThroughIsOff() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let moto = try MotoServer()
        defer { moto.stop() }
        for cacheWrites in [true, false] {
            var settings = Self.settings(endpoint: moto.endpoint, cache: scratch.directory())
            settings.cacheWrites = cacheWrites
            let store = try PackChunkStore(settings: settings)
            defer { store.shutdown() }
            try store.createBucketIfMissing()
            let written = try (0..<12).map { index in
                let bytes = Self.payload(index + 100, size: 50_000 + index * 7)
                return (try Self.append(store, bytes), bytes)
            }
            try store.syncDirty()
            let packBytes = 16 + written.reduce(0) { $0 + Int($1.0.length) + RecordHeader.size }
            if cacheWrites {
                // The cache keeps each pack once its upload has answered (just after the sync).
                let deadline = Date().addingTimeInterval(10)
                while store.cachedBytes < packBytes - 64 && Date() < deadline { usleep(20_000) }
            }
            for (location, bytes) in written { #expect(try store.readPayload(location) == bytes) }
            if cacheWrites {
                #expect(store.rangeGetsSent == 0, "every record was read from the blocks kept at upload")
            } else {
                #expect(store.rangeGetsSent > 0)
                #expect(store.cachedBytes > 0, "reads still fill the cache")
            }
        }
    }

    @Test func concurrentReadersOfOneBlockFetchItOnce() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let moto = try MotoServer()
        defer { moto.stop() }
        let writer = try PackChunkStore(settings: Self.settings(endpoint: moto.endpoint, cache: scratch.directory()))
        try writer.createBucketIfMissing()
        let bytes = Self.payload(7, size: 40_000)
        let location = try Self.append(writer, bytes)
        try writer.syncDirty()
        writer.shutdown()

        let reader = try PackChunkStore(settings: Self.settings(endpoint: moto.endpoint, cache: scratch.directory()))
        defer { reader.shutdown() }
        let matches = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            if (try? reader.readPayload(location)) == bytes { matches.add(1, ordering: .relaxed) }
        }
        #expect(matches.load(ordering: .relaxed) == 16)
        #expect(reader.rangeGetsSent == 1)
    }

    @Test func aStoreThatIsDownFailsTheSyncInBoundedTimeAndLosesNothingInMemory() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        for endpointKind in ["refusing", "silent"] {
            let silent = try SilentListener()
            let port = endpointKind == "silent" ? silent.port : try freePort()
            var settings = Self.settings(endpoint: "http://127.0.0.1:\(port)", cache: scratch.directory())
            settings.requestTimeoutSeconds = 0.5
            settings.connectTimeoutSeconds = 0.5
            settings.attempts = 2
            settings.retryBaseDelaySeconds = 0.05
            settings.syncTimeoutSeconds = 10
            let store = try PackChunkStore(settings: settings)
            defer { store.shutdown() }
            let bytes = Self.payload(1, size: 10_000)
            let location = try Self.append(store, bytes)
            for _ in 0..<2 {
                // Every sync fails while the store is away: a write is never acknowledged silently.
                let started = Date()
                #expect(throws: PackStoreError.self) { try store.syncDirty() }
                #expect(Date().timeIntervalSince(started) < 5, "\(endpointKind): the sync fails in bounded time")
            }
            #expect(try store.readPayload(location) == bytes, "\(endpointKind): the record is still served from memory")
        }
    }

    @Test func appendsStopAtTheMemoryBoundWhenUploadsFail() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        var settings = Self.settings(endpoint: "http://127.0.0.1:\(try freePort())", cache: scratch.directory())
        settings.maxBufferedBytes = 512 << 10
        settings.requestTimeoutSeconds = 0.5
        settings.attempts = 1
        settings.appendWaitSeconds = 5
        let store = try PackChunkStore(settings: settings)
        defer { store.shutdown() }
        let bytes = Self.payload(2, size: 60_000)
        let started = Date()
        var appended = 0
        #expect(throws: PackStoreError.self) {
            for _ in 0..<100 {
                _ = try Self.append(store, bytes)
                appended += 1
            }
        }
        #expect(appended < 10)
        #expect(store.bufferedBytes <= settings.maxBufferedBytes)
        #expect(Date().timeIntervalSince(started) < 8)
    }

    @Test func locationsMapOntoPacksBothWays() {
        let place = PackLocation(pack: PackId(writer: 0xDEAD_BEEF, sequence: 42), offset: 123_456, length: 789)
        let location = place.recordLocation
        #expect(location.segment == 42)
        #expect(PackLocation(location) == place)
        #expect(place.pack.objectKey(prefix: "p/") == "p/packs/deadbeef/0000002a")
        #expect(PackHeader.bytes(place.pack).count == SegmentStore.fileHeaderSize)
    }

    static func directoryBytes(_ path: String) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.reduce(0) { total, name in
            let size = (try? FileManager.default.attributesOfItem(atPath: path + "/" + name)[.size] as? Int) ?? 0
            return total + (size ?? 0)
        }
    }
}

/// Two writers that drew the same id: the second never overwrites the first's pack
/// (`If-None-Match: *`); its pack is reported lost (sync error, records discarded) and its next
/// packs carry a new writer id.
struct PackNameCollisionTests {
    @Test func aTakenPackNameIsNeverOverwrittenAndTheWriterMovesToANewId() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let moto = try MotoServer()
        defer { moto.stop() }
        let settings = { PackChunkStoreTests.settings(endpoint: moto.endpoint, cache: scratch.directory()) }
        let first = try PackChunkStore(settings: settings(), logger: Logger(label: "test"), writer: 0x0BAD_CAFE)
        defer { first.shutdown() }
        try first.createBucketIfMissing()
        let original = PackChunkStoreTests.payload(1, size: 5000)
        let originalLocation = try PackChunkStoreTests.append(first, original)
        try first.syncDirty()

        let second = try PackChunkStore(settings: settings(), logger: Logger(label: "test"), writer: 0x0BAD_CAFE)
        defer { second.shutdown() }
        let clash = try PackChunkStoreTests.append(second, PackChunkStoreTests.payload(2, size: 7000))
        #expect(PackLocation(clash).pack == PackLocation(originalLocation).pack)
        #expect(throws: PackStoreError.self) { try second.syncDirty() }
        #expect(second.wasDiscarded(clash))
        #expect(second.writerId != 0x0BAD_CAFE)

        // The first writer's pack is intact, read by a third store with a cold cache.
        let reader = try PackChunkStore(settings: settings())
        defer { reader.shutdown() }
        #expect(try reader.readPayload(originalLocation) == original)

        // The second writer goes on under its new id.
        let later = PackChunkStoreTests.payload(3, size: 3000)
        let laterLocation = try PackChunkStoreTests.append(second, later)
        #expect(try second.syncDirty() == 1)
        #expect(PackLocation(laterLocation).pack.writer == second.writerId)
        #expect(try reader.readPayload(laterLocation) == later)
    }
}
