import DepotHashing
import DepotStorage
import Glibc
import Logging

/// The start-time step of sealing stored accounts (issue 14 #7): records an earlier version
/// kept in clear are sealed, and the index file is compacted so that the clear bytes, left in
/// LMDB's freed pages by the rewrite, are gone from `index/data.mdb` too. Runs before the engine
/// opens the data directory, because the compacted file replaces the open one.
extension Engine {
    public struct SealingReport: Sendable {
        /// Records that were in clear and are now sealed.
        public var sealed = 0
        /// Access keys of sealed records the key file does not open (refused until restored).
        public var unreadable: [String] = []
    }

    /// Seals the clear records of `configuration`'s index, and logs the access keys of sealed
    /// records that `secrets-key` does not open. A record that cannot be read never fails the
    /// start; only I/O errors do. Takes the data directory's lock for the time it runs.
    @discardableResult
    public static func sealStoredAccounts(
        configuration: EngineConfiguration, logger: Logger = Logger(label: "depot.engine")
    ) throws -> SealingReport {
        let dataFile = configuration.indexDirectory + "/data.mdb"
        guard access(dataFile, F_OK) == 0 else { return SealingReport() }
        let lock = try DataDirectoryLock.acquire(configuration.dataDirectory)
        defer { close(lock) }
        let compacted = configuration.indexDirectory + "/data.mdb.sealed"
        let report = try sealInPlace(configuration: configuration, compactTo: compacted, logger: logger)
        if report.sealed > 0 {
            // Atomic: a stop before this leaves the old file (sealed records, clear bytes in
            // free pages) and the next start compacts again; after it, only the compact copy.
            guard rename(compacted, dataFile) == 0 else {
                throw EngineError.io("cannot replace \(dataFile): \(String(cString: strerror(errno)))")
            }
            let directory = open(configuration.indexDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if directory >= 0 {
                fsync(directory)
                close(directory)
            }
            logger.notice(
                "sealed \(report.sealed) stored account record(s) that were kept in clear, and compacted \(dataFile)")
        }
        return report
    }

    /// Seals within one environment that is closed on return; writes the compacted copy to
    /// `compactTo` when anything was sealed.
    private static func sealInPlace(configuration: EngineConfiguration, compactTo: String, logger: Logger) throws
        -> SealingReport
    {
        let environment = try LMDBEnvironment(path: configuration.indexDirectory, tables: Tables.all)
        var report = SealingReport()
        let records = try rawStoredAccounts(in: environment)
        let key = SecretsKey.load(dataDirectory: configuration.dataDirectory)
        report.unreadable = records.filter { accessKey, value in
            isSealed(value) && (key.map { openSealed(value, accessKey: accessKey, key: $0) == nil } ?? true)
        }.map(\.accessKey).sorted()
        if !report.unreadable.isEmpty {
            logger.error(
                """
                \(report.unreadable.count) stored account(s) cannot be decrypted and are refused: \
                \(SecretsKey.path(dataDirectory: configuration.dataDirectory)) is missing or is not the key they were \
                sealed with. Restore that file; or add each again under the same access key (admin API or \
                `depot account add`), or delete it with `depot account remove KEY --data DIR` while the server \
                is stopped. Access keys: \(report.unreadable.joined(separator: ", "))
                """)
        }
        let clear = records.filter { !isSealed($0.value) }
        guard !clear.isEmpty else { return report }
        let sealingKey = try SecretsKey.loadOrCreate(dataDirectory: configuration.dataDirectory)
        let sealed = try clear.map { ($0.accessKey, try sealAccount($0.value, accessKey: $0.accessKey, key: sealingKey)) }
        let table = environment.table(.accounts)
        try environment.write { txn in
            for (accessKey, value) in sealed { try txn.put(table, Array(accessKey.utf8), value) }
        }
        unlink(compactTo)
        let fd = PrivateFiles.open(compactTo, O_WRONLY | O_EXCL)
        guard fd >= 0 else { throw EngineError.io("cannot create \(compactTo): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        do {
            try environment.copyCompacted(to: fd)
        } catch {
            unlink(compactTo)
            throw EngineError.wrap(error)
        }
        guard fsync(fd) == 0 else {
            unlink(compactTo)
            throw EngineError.io("cannot sync \(compactTo): \(String(cString: strerror(errno)))")
        }
        report.sealed = sealed.count
        return report
    }
}
