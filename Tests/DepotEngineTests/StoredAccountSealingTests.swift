import DepotStorage
import Foundation
import Glibc
import Testing

@testable import DepotEngine

/// Stored account records are sealed under `<data>/secrets-key`; records kept in clear by an
/// older version are read as before and sealed at start; a lost key refuses those accounts
/// without failing the start (issue 14 #7).
struct StoredAccountSealingTests {
    static let record = Array(#"{"name":"cam","accessKey":"CAMKEY","secretKey":"the-secret-value-123"}"#.utf8)

    func rawRecord(_ engine: Engine, _ accessKey: String) throws -> [UInt8]? {
        let table = engine.indexStore.table(.accounts)
        return try engine.indexStore.read { txn in try txn.get(table, Array(accessKey.utf8)).map { Array($0) } }
    }

    func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let needle = Array(needle.utf8)
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }

    @Test func storedRecordsAreSealedAndReadBack() async throws {
        let directory = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(directory.path))
        defer { engine.shutdown() }
        try await engine.storeAccount(accessKey: "CAMKEY", value: Self.record)
        let raw = try #require(try rawRecord(engine, "CAMKEY"))
        #expect(!contains(raw, "the-secret-value-123"))
        #expect(Engine.isSealed(raw))
        #expect(try engine.storedAccounts().map(\.value) == [Self.record])
        var st = stat()
        #expect(stat(directory.path + "/secrets-key", &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        #expect(st.st_size == 32)
    }

    @Test func clearRecordsAreReadThenSealedAtStartAndLeaveNoClearBytes() async throws {
        let directory = TemporaryDirectory()
        do {
            let engine = try Engine(configuration: testConfiguration(directory.path))
            let table = engine.indexStore.table(.accounts)
            try engine.indexStore.write { txn in try txn.put(table, Array("CAMKEY".utf8), Self.record) }
            #expect(try engine.storedAccounts().map(\.value) == [Self.record])
            engine.shutdown()
        }
        let report = try Engine.sealStoredAccounts(configuration: testConfiguration(directory.path))
        #expect(report.sealed == 1 && report.unreadable.isEmpty)
        let file = try #require(FileManager.default.contents(atPath: directory.path + "/index/data.mdb"))
        let leaked = contains(Array(file), "the-secret-value-123")
        #expect(!leaked, "the clear record's bytes are still in data.mdb")
        #expect(access(directory.path + "/index/data.mdb.sealed", F_OK) != 0)
        #expect(try Engine.sealStoredAccounts(configuration: testConfiguration(directory.path)).sealed == 0)
        let engine = try Engine(configuration: testConfiguration(directory.path))
        defer { engine.shutdown() }
        #expect(Engine.isSealed(try #require(try rawRecord(engine, "CAMKEY"))))
        #expect(try engine.storedAccounts().map(\.value) == [Self.record])
        // The compacted index still works for writes.
        try await engine.storeAccount(accessKey: "NEWKEY", value: Self.record)
        #expect(try engine.storedAccounts().count == 2)
    }

    @Test func aLostKeyRefusesSealedAccountsWithoutFailing() async throws {
        let directory = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(directory.path))
        defer { engine.shutdown() }
        try await engine.storeAccount(accessKey: "CAMKEY", value: Self.record)
        unlink(directory.path + "/secrets-key")
        #expect(try engine.storedAccounts().isEmpty)
        // Still removable, and new accounts work under a new key.
        try await engine.storeAccount(accessKey: "NEWKEY", value: Self.record)
        #expect(try engine.storedAccounts().map(\.accessKey) == ["NEWKEY"])
        #expect(try await engine.removeStoredAccount(accessKey: "CAMKEY"))
    }

    @Test func aLostKeyIsReportedAtStartWithoutFailing() async throws {
        let directory = TemporaryDirectory()
        do {
            let engine = try Engine(configuration: testConfiguration(directory.path))
            try await engine.storeAccount(accessKey: "CAMKEY", value: Self.record)
            engine.shutdown()
        }
        unlink(directory.path + "/secrets-key")
        let report = try Engine.sealStoredAccounts(configuration: testConfiguration(directory.path))
        #expect(report.unreadable == ["CAMKEY"] && report.sealed == 0)
    }

    @Test func aSealedRecordMovedToAnotherAccessKeyDoesNotOpen() async throws {
        let directory = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(directory.path))
        defer { engine.shutdown() }
        try await engine.storeAccount(accessKey: "CAMKEY", value: Self.record)
        let raw = try #require(try rawRecord(engine, "CAMKEY"))
        let table = engine.indexStore.table(.accounts)
        try engine.indexStore.write { txn in try txn.put(table, Array("OTHER".utf8), raw) }
        #expect(try engine.storedAccounts().map(\.accessKey) == ["CAMKEY"])
    }

    @Test func dataDirectoryEntriesAreOwnerOnly() throws {
        let directory = TemporaryDirectory()
        chmod(directory.path, 0o755)
        let loose = directory.path + "/leftover"
        FileManager.default.createFile(atPath: loose, contents: Data("x".utf8))
        chmod(loose, 0o644)
        let engine = try Engine(configuration: testConfiguration(directory.path))
        defer { engine.shutdown() }
        for path in [directory.path, directory.path + "/index", directory.path + "/segments"] {
            var st = stat()
            #expect(stat(path, &st) == 0)
            #expect(st.st_mode & 0o777 == 0o700, "\(path)")
        }
        for path in [
            loose, directory.path + "/depot.lock", directory.path + "/index/data.mdb", directory.path + "/index/lock.mdb",
        ] {
            var st = stat()
            #expect(stat(path, &st) == 0)
            #expect(st.st_mode & 0o777 == 0o600, "\(path)")
        }
    }

    @Test func aDataDirectoryReachedThroughALinkIsTightenedToo() throws {
        let directory = TemporaryDirectory()
        let real = directory.path + "/real"
        mkdir(real, 0o755)
        chmod(real, 0o755)
        let link = directory.path + "/link"
        symlink(real, link)
        let engine = try Engine(configuration: testConfiguration(link))
        defer { engine.shutdown() }
        var st = stat()
        #expect(stat(real, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o700)
    }

    @Test func firstAccountsStoredAtOnceShareOneKey() async throws {
        let directory = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(directory.path))
        defer { engine.shutdown() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<8 {
                group.addTask { try await engine.storeAccount(accessKey: "KEY\(n)", value: Self.record) }
            }
            try await group.waitForAll()
        }
        #expect(try engine.storedAccounts().count == 8)
    }
}
