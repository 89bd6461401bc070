import DepotStorage
import Glibc
import Testing

@testable import DepotEngine
import TestRandomness

/// Version ids and the versions table (VersionKey.swift, Versioning.swift): ids are opaque,
/// URL-safe, unique and sortable; the table orders keys as S3 does and each key's versions
/// newest first; rebuilds and reference counts follow every version.
struct VersioningTests {
    @Test func versionIdsRoundTripAndSortWithTheirOrder() {
        var previous = ""
        for order: UInt64 in [1, 2, 15, 16, 255, 4096, 1 << 32, UInt64.max - 1, UInt64.max] {
            let id = VersionId.encode(order)
            #expect(id.utf8.count == 16)
            #expect(id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) })
            #expect(VersionId.decode(id) == order)
            #expect(previous < id)
            previous = id
        }
        for bad in ["", "null", "0000000000000000", "000000000000000G", "ABCDEF0123456789", "123", "00000000000000011"] {
            #expect(VersionId.decode(bad) == nil, "\(bad)")
        }
        #expect(VersionSelector("null") == .null)
        #expect(VersionSelector("000000000000002a") == .order(42))
        #expect(VersionSelector("nope") == nil)
    }

    @Test func versionKeysOrderKeysLikeS3AndVersionsNewestFirst() {
        let layout = VersionKeyLayout(bucket: "b")
        let keys = ["a", "a/b", "a0", "ab", "b", String(repeating: "x", count: 600)]
        var entries: [(key: String, order: UInt64, index: [UInt8])] = []
        for key in keys {
            for order: UInt64 in [3, 700, 1 << 40] { entries.append((key, order, layout.indexKey(key, order: order))) }
        }
        for (_, _, index) in entries { #expect(index.count <= ObjectKeyLayout.indexKeyLimit) }
        let sorted = entries.sorted { ByteOrder.less($0.index, $1.index) }
        let expected = entries.sorted { a, b in
            a.key != b.key ? Array(a.key.utf8).lexicographicallyPrecedes(Array(b.key.utf8)) : a.order > b.order
        }
        #expect(sorted.map { "\($0.key)#\($0.order)" } == expected.map { "\($0.key)#\($0.order)" })
        for entry in entries {
            let order = entry.index.withUnsafeBytes { VersionKeyLayout.order(indexKey: $0) }
            #expect(order == entry.order)
            #expect(ByteOrder.less(entry.index, layout.keyEnd(entry.key)))
        }
        // The longest bucket name and key still fit 511 bytes with the version suffix.
        let longest = VersionKeyLayout(bucket: String(repeating: "b", count: 63))
        #expect(longest.indexKey(String(repeating: "k", count: 1024), order: 1).count == ObjectKeyLayout.indexKeyLimit)
    }

    @Test func recordsKeepVersionFieldsAndUnversionedRecordsTheirOldBytes() throws {
        var record = ObjectRecord(size: 3, etag: "e", created: 1, owner: "o")
        #expect(record.encodedBody().first == 2)
        record.versionOrder = 77
        record.isDeleteMarker = true
        record.lock = ObjectLockFields(mode: 2, retainUntil: 123_456, legalHold: true)
        let body = record.encodedBody()
        #expect(body.first == 4)
        let decoded = try body.decode { try ObjectRecord.decodeBody(&$0) }
        #expect(decoded.versionOrder == 77 && decoded.isDeleteMarker && !decoded.isNullVersion)
        #expect(decoded.lock == record.lock)
        #expect(decoded.versionId == VersionId.encode(77))
        var bucket = BucketRecord(created: 1, owner: "o", region: "r")
        #expect(bucket.encoded().first == 1)
        bucket.versioning = .suspended
        #expect(try bucket.encoded().decode { try BucketRecord.decode(&$0) }.versioning == .suspended)
    }

    @Test func versionsHoldTheirChunksAndTheIndexRebuildsThem() async throws {
        let directory = TemporaryDirectory()
        let configuration = testConfiguration(directory.path)
        var random = SplitMix64(seed: 16)
        let first = random.bytes(300_000)
        var second = first
        var v1Id = ""
        second.replaceSubrange(250_000..<250_010, with: [UInt8](repeating: 7, count: 10))
        do {
            let engine = try Engine(configuration: configuration)
            try await engine.createBucket("bkt", owner: "o")
            try await engine.put("bkt", "unversioned", [1, 2, 3])
            try await engine.setVersioning(bucket: "bkt", .enabled)
            let v1 = try await engine.put("bkt", "k", first)
            let v2 = try await engine.put("bkt", "k", second)
            #expect(v1.versionId != nil && v1.versionId != v2.versionId)
            v1Id = v1.versionId!
            #expect(try engine.get("bkt", "k") == second)
            #expect(try engine.openObject(bucket: "bkt", key: "k", version: VersionSelector(v1.versionId!)!)?.readAll() == first)
            #expect(try engine.openObject(bucket: "bkt", key: "unversioned", version: .null)?.readAll() == [1, 2, 3])
            // Every version counts toward its owner's usage (quotas).
            #expect(try engine.usage(of: "tester") == StorageUsage(bytes: 600_003, objects: 3))
            let marker = try await engine.deleteLatest(bucket: "bkt", key: "k")
            #expect(try engine.usage(of: "tester") == StorageUsage(bytes: 600_003, objects: 3))
            #expect(marker.deleteMarker)
            #expect(try engine.get("bkt", "k") == nil)
            #expect(try engine.latestDeleteMarker(bucket: "bkt", key: "k") != nil)
            let listing = try engine.listVersions(bucket: "bkt")
            #expect(listing.versions.map(\.key) == ["k", "k", "k", "unversioned"])
            #expect(listing.versions.map(\.isLatest) == [true, false, false, true])
            #expect(listing.versions[0].record.isDeleteMarker)
            let report = try engine.fsck()
            #expect(report.problems.isEmpty, "\(report.problems)")
            engine.shutdown()
        }
        var before: [String] = []
        do {
            let engine = try Engine(configuration: configuration)
            try engine.dumpIndex { before.append($0) }
            engine.shutdown()
        }
        _ = system("rm -rf '\(configuration.indexDirectory)'")
        let report = try Engine.rebuildIndex(configuration: configuration)
        #expect(report.problems.isEmpty)
        let engine = try Engine(configuration: configuration)
        var after: [String] = []
        try engine.dumpIndex { after.append($0) }
        #expect(after == before)
        // Recounted from the rebuilt index: every version, not only the current ones.
        #expect(try engine.usage(of: "tester") == StorageUsage(bytes: 600_003, objects: 3))
        // Removing the marker brings the newest version back.
        let marker = try engine.listVersions(bucket: "bkt").versions[0].record
        _ = try await engine.deleteObjectVersion(bucket: "bkt", key: "k", VersionSelector(marker.versionId!)!)
        #expect(try engine.get("bkt", "k") == second)
        _ = try await engine.deleteObjectVersion(bucket: "bkt", key: "k", VersionSelector(v1Id)!)
        #expect(try engine.usage(of: "tester") == StorageUsage(bytes: 300_003, objects: 2))
        #expect(try engine.fsck().problems.isEmpty)
    }

    @Test func compactionKeepsEveryVersionsRecordsAndTheRebuildStillMatches() async throws {
        let directory = TemporaryDirectory()
        let configuration = testConfiguration(directory.path, segmentSize: 256 << 10)
        var random = SplitMix64(seed: 99)
        var expected: [String: [UInt8]] = [:]
        do {
            let engine = try Engine(configuration: configuration)
            try await engine.createBucket("bkt", owner: "o")
            for i in 0..<6 { try await engine.put("bkt", "pre-\(i % 2)", random.bytes(20_000)) }
            try await engine.setVersioning(bucket: "bkt", .enabled)
            var made: [(key: String, id: String)] = []
            for i in 0..<40 {
                let key = "k-\(i % 4)"
                let bytes = random.bytes(90_000 + i)
                let record = try await engine.put("bkt", key, bytes)
                made.append((key, record.versionId!))
                expected[key + "#" + record.versionId!] = bytes
            }
            // Remove every third version and put markers on two keys; then Suspend and overwrite.
            for (n, version) in made.enumerated() where n % 3 == 0 {
                _ = try await engine.deleteObjectVersion(bucket: "bkt", key: version.key, VersionSelector(version.id)!)
                expected[version.key + "#" + version.id] = nil
            }
            _ = try await engine.deleteLatest(bucket: "bkt", key: "k-1")
            _ = try await engine.deleteLatest(bucket: "bkt", key: "pre-0")
            try await engine.setVersioning(bucket: "bkt", .suspended)
            for _ in 0..<3 { try await engine.put("bkt", "k-2", random.bytes(25_000)) }
            let compaction = try await engine.compact(threshold: 1.0)
            #expect(compaction.segmentsCompacted >= 2, "\(compaction)")
            for (name, bytes) in expected {
                let parts = name.split(separator: "#").map(String.init)
                let reader = try engine.openObject(bucket: "bkt", key: parts[0], version: VersionSelector(parts[1])!)
                #expect(try reader?.readAll() == bytes, "\(name)")
            }
            #expect(try engine.fsck().problems.isEmpty)
            engine.shutdown()
        }
        var before: [String] = []
        do {
            let engine = try Engine(configuration: configuration)
            try engine.dumpIndex { before.append($0) }
            engine.shutdown()
        }
        _ = system("rm -rf '\(configuration.indexDirectory)'")
        #expect(try Engine.rebuildIndex(configuration: configuration).problems.isEmpty)
        let engine = try Engine(configuration: configuration)
        var after: [String] = []
        try engine.dumpIndex { after.append($0) }
        #expect(after == before)
        #expect(before.filter { $0.hasPrefix("version ") }.count > 30)
    }

    @Test func longKeysAreListedInS3OrderAcrossPages() async throws {
        let directory = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(directory.path))
        let bucket = String(repeating: "b", count: 40)
        try await engine.createBucket(bucket, owner: "o")
        try await engine.setVersioning(bucket: bucket, .enabled)
        let kept = VersionKeyLayout(bucket: bucket).objects.keptLength
        let stem = "cam/" + String(repeating: "s", count: kept - 4)
        // Short, exactly kept, stored as themselves, hashed, and under a delimiter inside the block.
        var keys = ["a", "cam/a", stem, stem + "a", stem + "b/x", stem + "b/y", "z"]
        var random = SplitMix64(seed: 3)
        for _ in 0..<6 {
            keys.append(stem + String(decoding: random.bytes(60).map { 0x61 + $0 % 26 }, as: UTF8.self))
        }
        var expected: [(key: String, id: String)] = []
        for key in keys {
            var ids: [String] = []
            for n in 0..<2 { ids.append(try await engine.put(bucket, key, [UInt8(n)]).versionId!) }
            expected += ids.reversed().map { (key, $0) }
        }
        expected.sort { a, b in
            a.key != b.key ? Array(a.key.utf8).lexicographicallyPrecedes(Array(b.key.utf8)) : a.id > b.id
        }
        var listed: [(key: String, id: String, latest: Bool)] = []
        var marker = ("", nil as VersionSelector?)
        for _ in 0..<100 {
            let page = try engine.listVersions(bucket: bucket, keyMarker: marker.0, versionIdMarker: marker.1, maxKeys: 3)
            listed += page.versions.map { ($0.key, $0.record.versionId!, $0.isLatest) }
            guard page.isTruncated else { break }
            marker = (page.nextKeyMarker!, page.nextVersionIdMarker.flatMap(VersionSelector.init))
        }
        #expect(listed.map(\.key) == expected.map(\.key))
        #expect(listed.map(\.id) == expected.map(\.id))
        #expect(listed.map(\.latest) == expected.indices.map { $0 % 2 == 0 })
        // A delimiter inside the long keys rolls them up once, in order.
        let rolled = try engine.listVersions(bucket: bucket, prefix: stem, delimiter: "/")
        #expect(rolled.commonPrefixes == [stem + "b/"])
        #expect(rolled.versions.count == 2 * 8)
        let keysListed = rolled.versions.map { Array($0.key.utf8) }
        #expect(keysListed == keysListed.sorted { $0.lexicographicallyPrecedes($1) })
    }
}
