import DepotStorage
import Foundation
import Glibc
import Testing

@testable import DepotEngine
import TestRandomness

/// Stored accounts and admin-made settings (tiers, policies, jobs) are logged as `.keyedItem`
/// records in the same commit as their index change, so `fsck --rebuild-index` restores them:
/// the newest record of an item wins, a removal stays removed, compaction carries the current
/// records forward, and accounts reach the segments only sealed.
struct KeyedItemLogTests {
    @Test func keyedItemRecordsRoundTrip() throws {
        for payload in [
            LogPayload.keyedItem(table: "settings", key: "tier/cold", value: Array("{\"type\":\"s3\"}".utf8)),
            .keyedItem(table: "accounts", key: "AK", value: []),
            .keyedItem(table: "settings", key: "policy/p", value: nil),
        ] {
            #expect(payload.kind == .keyedItem)
            guard
                case .keyedItem(let table, let key, let value)? = try LogPayload.decode(
                    kind: .keyedItem, payload: payload.encoded()),
                case .keyedItem(let table0, let key0, let value0) = payload
            else {
                Issue.record("not decoded as a keyed item")
                continue
            }
            #expect(table == table0 && key == key0 && value == value0)
        }
        // A bad presence flag is refused, not read as a removal.
        var w = BinaryWriter()
        w.string("settings")
        w.string("tier/x")
        w.u8(7)
        #expect(throws: (any Error).self) { _ = try LogPayload.decode(kind: .keyedItem, payload: w.bytes) }
    }

    @Test func rebuildRestoresTheNewestValueOfEachItemAndRemovalsWin() async throws {
        let dir = TemporaryDirectory()
        let configuration = testConfiguration(dir.path)
        let secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYSECRET"
        do {
            let engine = try Engine(configuration: configuration)
            defer { engine.shutdown() }
            try await engine.storeSetting(kind: "tier", name: "cold", document: Array("first".utf8))
            try await engine.storeSetting(kind: "tier", name: "cold", document: Array("second".utf8))
            try await engine.storeSetting(kind: "policy", name: "keep", document: Array("p1".utf8))
            try await engine.storeSetting(kind: "policy", name: "gone", document: Array("p2".utf8))
            #expect(try await engine.removeSetting(kind: "policy", name: "gone"))
            #expect(try await !engine.removeSetting(kind: "policy", name: "never"))
            // Removed, then made again: the newest record (the second make) wins.
            try await engine.storeSetting(kind: "policy", name: "back", document: Array("old".utf8))
            try await engine.removeSetting(kind: "policy", name: "back")
            try await engine.storeSetting(kind: "policy", name: "back", document: Array("new".utf8))
            try await engine.storeAccount(accessKey: "CAMKEY", value: Array("{\"secretKey\":\"\(secret)\"}".utf8))
            try await engine.storeAccount(accessKey: "OLDKEY", value: Array("{\"secretKey\":\"old-\(secret)\"}".utf8))
            try await engine.removeStoredAccount(accessKey: "OLDKEY")
            // Delivery cursors are working state, not logged.
            try await engine.setEventCursor(sink: "hook", to: 42)
        }
        // Accounts reach the segments sealed only.
        #expect(!segmentFilesContain(configuration.segmentDirectory, Array(secret.utf8)))
        _ = system("rm -rf '\(configuration.indexDirectory)'")
        let report = try Engine.rebuildIndex(configuration: configuration)
        #expect(report.problems.isEmpty)
        #expect(report.accounts == 1)
        #expect(report.settings == ["tier": 1, "policy": 2])
        let rebuilt = try Engine(configuration: configuration)
        defer { rebuilt.shutdown() }
        #expect(try rebuilt.storedSettings(kind: "tier").map { $0.name } == ["cold"])
        #expect(try rebuilt.storedSettings(kind: "tier").first?.document == Array("second".utf8))
        let policies = try rebuilt.storedSettings(kind: "policy")
        #expect(policies.map(\.name) == ["back", "keep"])
        #expect(policies.first?.document == Array("new".utf8))
        let accounts = try rebuilt.storedAccounts()
        #expect(accounts.map(\.accessKey) == ["CAMKEY"])
        #expect(accounts.first.map { String(decoding: $0.value, as: UTF8.self) } == "{\"secretKey\":\"\(secret)\"}")
        #expect(try rebuilt.eventCursor(sink: "hook") == 0)
    }

    @Test func compactionCarriesCurrentItemRecordsForwardAndDropsSupersededOnes() async throws {
        let dir = TemporaryDirectory()
        let configuration = testConfiguration(dir.path, segmentSize: 1 << 20)
        do {
            let engine = try Engine(configuration: configuration)
            defer { engine.shutdown() }
            try await engine.createBucket("videos", owner: "tester")
            try await engine.storeSetting(kind: "tier", name: "kept", document: Array("tier".utf8))
            try await engine.storeSetting(kind: "policy", name: "removed", document: Array("removed-policy-document".utf8))
            try await engine.removeSetting(kind: "policy", name: "removed")
            try await engine.storeSetting(kind: "policy", name: "changed", document: Array("superseded-policy-document".utf8))
            try await engine.storeSetting(kind: "policy", name: "changed", document: Array("v2".utf8))
            try await engine.storeAccount(accessKey: "AK", value: Array("{}".utf8))
            // Fill the first segments with objects that are then deleted, so they compact.
            var random = SplitMix64(seed: 3)
            for i in 0..<12 { try await engine.put("videos", "k\(i)", random.bytes(200_000)) }
            for i in 0..<12 { try await engine.deleteObject(bucket: "videos", key: "k\(i)") }
            let first = try #require(segmentIds(configuration.segmentDirectory).first)
            let report = try await engine.compact()
            #expect(report.problems.isEmpty)
            #expect(report.segmentsCompacted >= 1)
            // The segment that held the first records is gone: only copies carried them on.
            #expect(!segmentIds(configuration.segmentDirectory).contains(first))
            // Records of items since changed or removed were not carried.
            #expect(!segmentFilesContain(configuration.segmentDirectory, Array("superseded-policy-document".utf8)))
            #expect(!segmentFilesContain(configuration.segmentDirectory, Array("removed-policy-document".utf8)))
        }
        _ = system("rm -rf '\(configuration.indexDirectory)'")
        let report = try Engine.rebuildIndex(configuration: configuration)
        #expect(report.problems.isEmpty)
        #expect(report.settings == ["tier": 1, "policy": 1] && report.accounts == 1)
        let rebuilt = try Engine(configuration: configuration)
        defer { rebuilt.shutdown() }
        #expect(try rebuilt.storedSettings(kind: "tier").map(\.name) == ["kept"])
        let policies = try rebuilt.storedSettings(kind: "policy")
        #expect(policies.map(\.name) == ["changed"] && policies.first?.document == Array("v2".utf8))
        #expect(try rebuilt.storedAccounts().map(\.accessKey) == ["AK"])
    }

    @Test func aFailedChangeIsSupersededSoARebuildKeepsWhatTheIndexHeld() async throws {
        let dir = TemporaryDirectory()
        let configuration = testConfiguration(dir.path)
        do {
            let engine = try Engine(configuration: configuration)
            defer { engine.shutdown() }
            try await engine.storeSetting(kind: "policy", name: "held", document: Array("good".utf8))
            try await engine.storeSetting(kind: "policy", name: "kept", document: Array("kept".utf8))
            let settings = engine.indexStore.table(.settings)
            // Each logs its change and writes the index, then fails as a full disk would.
            for (key, value) in [("policy/held", Array("failed".utf8)), ("policy/new", [1]), ("policy/kept", nil)] {
                await #expect(throws: FailedChange.self) {
                    try await engine.committer.submit { txn, context in
                        _ = try context.log(.keyedItem(table: "settings", key: key, value: value))
                        if let value {
                            try txn.put(settings, Array(key.utf8), value)
                        } else {
                            _ = try txn.delete(settings, Array(key.utf8))
                        }
                        throw FailedChange()
                    }
                }
            }
            #expect(try engine.storedSettings(kind: "policy").map(\.name) == ["held", "kept"])
        }
        _ = system("rm -rf '\(configuration.indexDirectory)'")
        let report = try Engine.rebuildIndex(configuration: configuration)
        #expect(report.settings == ["policy": 2])
        let rebuilt = try Engine(configuration: configuration)
        defer { rebuilt.shutdown() }
        let policies = try rebuilt.storedSettings(kind: "policy")
        #expect(policies.map(\.name) == ["held", "kept"])
        #expect(policies.first?.document == Array("good".utf8))
    }

    @Test func aFailedChangeOfAnAccountStillInClearIsNotSupersededWithItsSecret() async throws {
        let dir = TemporaryDirectory()
        let configuration = testConfiguration(dir.path)
        let secret = "clear-secret-from-an-earlier-version"
        let engine = try Engine(configuration: configuration)
        defer { engine.shutdown() }
        let accounts = engine.indexStore.table(.accounts)
        try engine.indexStore.write { txn in
            try txn.put(accounts, Array("LEGACY".utf8), Array("{\"secretKey\":\"\(secret)\"}".utf8))
        }
        await #expect(throws: FailedChange.self) {
            try await engine.committer.submit { txn, context in
                _ = try context.log(.keyedItem(table: "accounts", key: "LEGACY", value: nil))
                _ = try txn.delete(accounts, Array("LEGACY".utf8))
                throw FailedChange()
            }
        }
        try await engine.storeSetting(kind: "tier", name: "after", document: [1])
        #expect(try engine.storedAccounts().map(\.accessKey) == ["LEGACY"])
        #expect(!segmentFilesContain(configuration.segmentDirectory, Array(secret.utf8)))
    }

    @Test func itemsOfAnIndexFromBeforeLoggingAreLoggedOnceAtStart() async throws {
        let dir = TemporaryDirectory()
        let configuration = testConfiguration(dir.path)
        let legacySecret = "legacy-clear-secret-0123456789"
        do {
            let engine = try Engine(configuration: configuration)
            defer { engine.shutdown() }
            // What an earlier version left: items written to the index alone (an account in
            // clear, as before sealing), no flag.
            let (settings, accounts, meta) = (
                engine.indexStore.table(.settings), engine.indexStore.table(.accounts), engine.meta
            )
            try engine.indexStore.write { txn in
                try txn.put(settings, Array("tier/legacy".utf8), Array("old".utf8))
                try txn.put(settings, Array("cursor/hook".utf8), [0, 0, 0, 0, 0, 0, 0, 9])
                try txn.put(accounts, Array("LEGACY".utf8), Array("{\"secretKey\":\"\(legacySecret)\"}".utf8))
                _ = try txn.delete(meta, Engine.keyedItemsLoggedKey)
            }
        }
        // A command opening the index before the server sealed the clear account logs nothing.
        do {
            let reopened = try Engine(configuration: configuration)
            reopened.shutdown()
        }
        #expect(!segmentFilesContain(configuration.segmentDirectory, Array("old".utf8)))
        // The server's start: sealing, then the engine, which logs every item once.
        try Engine.sealStoredAccounts(configuration: configuration)
        do {
            let reopened = try Engine(configuration: configuration)
            reopened.shutdown()
        }
        #expect(!segmentFilesContain(configuration.segmentDirectory, Array(legacySecret.utf8)))
        _ = system("rm -rf '\(configuration.indexDirectory)'")
        let report = try Engine.rebuildIndex(configuration: configuration)
        #expect(report.settings == ["tier": 1] && report.accounts == 1)
        let rebuilt = try Engine(configuration: configuration)
        defer { rebuilt.shutdown() }
        #expect(try rebuilt.storedSettings(kind: "tier").map(\.document) == [Array("old".utf8)])
        #expect(try rebuilt.storedAccounts().map(\.value) == [Array("{\"secretKey\":\"\(legacySecret)\"}".utf8)])
        #expect(try rebuilt.eventCursor(sink: "hook") == 0)
    }
}

private struct FailedChange: Error {}

/// The ids of the segment files, ascending.
private func segmentIds(_ directory: String) -> [UInt32] { SegmentStore.listSegmentIds(directory) }

/// Whether any segment file holds `needle` as raw bytes.
private func segmentFilesContain(_ directory: String, _ needle: [UInt8]) -> Bool {
    for id in segmentIds(directory) {
        let path = "\(directory)/\(String(repeating: "0", count: max(0, 8 - String(id).count)))\(id).seg"
        guard let file = fopen(path, "rb") else { continue }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while case let n = fread(&buffer, 1, buffer.count, file), n > 0 { bytes += buffer[0..<n] }
        if Data(bytes).range(of: Data(needle)) != nil { return true }
    }
    return false
}
