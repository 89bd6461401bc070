import DepotStorage
import Foundation
import Testing

@testable import DepotEngine

/// `IndexTable` is the one list of the index's tables: the engine opens exactly those, a
/// rebuilt index has them all, and each has its rebuild fate decided.
struct IndexTableTests {
    @Test func theEngineOpensEveryIndexTableAndNoOther() throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        #expect(engine.indexStore.tableNames == Set(IndexTable.allCases.map(\.rawValue)))
    }

    @Test func aRebuiltIndexHasEveryTable() async throws {
        let dir = TemporaryDirectory()
        let configuration = testConfiguration(dir.path)
        do {
            let engine = try Engine(configuration: configuration)
            defer { engine.shutdown() }
            try await engine.storeSetting(kind: "tier", name: "cold", document: Array("t".utf8))
        }
        _ = try Engine.rebuildIndex(configuration: configuration)
        let engine = try Engine(configuration: configuration)
        defer { engine.shutdown() }
        #expect(engine.indexStore.tableNames == Set(IndexTable.allCases.map(\.rawValue)))
        #expect(try engine.storedSettings(kind: "tier").count == 1)
    }

    /// The fate is an exhaustive switch, so a new case does not compile without one; this
    /// holds the decisions to what the rest of the engine does with the tables.
    @Test func everyTableHasARebuildFateConsistentWithTheLog() {
        var fates: [IndexTable.RebuildFate: [IndexTable]] = [:]
        for table in IndexTable.allCases { fates[table.rebuildFate, default: []].append(table) }
        #expect(fates.values.map(\.count).reduce(0, +) == IndexTable.allCases.count)
        // Tables kept as keyed-item records are restored from the log, and the only ones
        // restored that way besides the object and bucket records.
        for table in IndexTable.allCases where table.isKeyedItemLogged {
            #expect(table.rebuildFate == .restoredFromLog, "\(table)")
        }
        #expect(Set(fates[.restoredFromLog] ?? []) == [.buckets, .objects, .versions, .accounts, .settings])
        #expect(Tables.logged == ["accounts", "settings"])
        #expect(Tables.all.count == Set(Tables.all).count)
    }
}
