import DepotHashing
import DepotStorage
import Glibc
import Synchronization

/// The 32-byte AES-256-GCM key that seals stored account records, kept in `<data>/secrets-key`
/// (mode 0600, beside `root-credentials`) and made on the first account stored.
///
/// If the file is lost, records sealed with it cannot be opened: those accounts are refused
/// (their access keys are unknown to the server) and the start log names them; restoring the
/// file brings them back, removing and re-adding them replaces them. An existing file of the
/// wrong size is never overwritten: that would lose the key for good.
///
/// In cluster mode the key is not this file: `EngineConfiguration.accountSealingKey`, derived
/// from the `cluster.keyFile` every node is given, so a record sealed through one node opens on
/// every node, and a copy of the shared database alone opens none (ClusterKey.swift).
enum SecretsKey {
    static func path(dataDirectory: String) -> String { dataDirectory + "/secrets-key" }

    /// The key of `configuration`: the one it is given, else the data directory's file (nil
    /// when missing or not 32 bytes).
    static func load(_ configuration: EngineConfiguration) -> [UInt8]? {
        configuration.accountSealingKey ?? load(dataDirectory: configuration.dataDirectory)
    }

    /// The key of `configuration`: the one it is given, else the data directory's file, made
    /// now when there is none yet.
    static func loadOrCreate(_ configuration: EngineConfiguration) throws -> [UInt8] {
        try configuration.accountSealingKey ?? loadOrCreate(dataDirectory: configuration.dataDirectory)
    }

    /// The key, or nil when the file is missing or is not 32 bytes.
    static func load(dataDirectory: String) -> [UInt8]? {
        let fd = open(path(dataDirectory: dataDirectory), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: AES256GCM.keySize + 1)
        let n = read(fd, &buffer, buffer.count)
        return n == AES256GCM.keySize ? Array(buffer.prefix(AES256GCM.keySize)) : nil
    }

    /// Two first accounts stored at once must not race to make the key: the loser would find
    /// the winner's file still empty and fail. (Other processes are kept out by the data
    /// directory's lock.)
    private static let creation = Mutex(())

    /// The key, made now when there is no file yet.
    static func loadOrCreate(dataDirectory: String) throws -> [UInt8] {
        if let key = load(dataDirectory: dataDirectory) { return key }
        return try creation.withLock { _ in try create(dataDirectory: dataDirectory) }
    }

    private static func create(dataDirectory: String) throws -> [UInt8] {
        if let key = load(dataDirectory: dataDirectory) { return key }
        let file = path(dataDirectory: dataDirectory)
        let key = secureRandomBytes(AES256GCM.keySize)
        // O_EXCL: a file that exists but did not load (wrong size) is kept for the operator.
        let fd = PrivateFiles.open(file, O_WRONLY | O_EXCL)
        guard fd >= 0 else {
            if errno == EEXIST, let key = load(dataDirectory: dataDirectory) { return key }
            throw EngineError.io(
                "cannot create \(file): \(String(cString: strerror(errno))) (a secrets-key that is not \(AES256GCM.keySize) bytes is left for you to restore)"
            )
        }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == key.count else {
            unlink(file)
            throw EngineError.io("cannot write \(file)")
        }
        let directory = open(dataDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
        return key
    }
}
