import Synchronization

/// An index store held in memory: the reference second implementation of `IndexStore`, which
/// the tests run the same checks against as LMDB, and which an engine can be opened over to show
/// that nothing in it depends on LMDB. Nothing is persisted.
///
/// Each table is a sorted array of keys plus a dictionary of values. A read takes the committed
/// tables as they are (Swift's arrays and dictionaries are copy-on-write, so a snapshot costs
/// nothing until someone writes); a write works on its own copy and publishes it only when its
/// body returns, so a body that throws leaves nothing behind. A nested transaction keeps the copy
/// it started from and puts it back when its body throws.
public final class MemoryIndexStore: IndexStore {
    private let names: [String]
    private let committed: Mutex<[MemoryTable]>
    /// Held for the whole of a write: one writer at a time, as with LMDB.
    private let writer = Mutex<Void>(())
    public let maxKeySize: Int

    /// `maxKeySize` defaults to LMDB's, so code that runs over this store fits LMDB too.
    public init(tables: [String], maxKeySize: Int = 511) {
        names = tables
        committed = Mutex([MemoryTable](repeating: MemoryTable(), count: tables.count))
        self.maxKeySize = maxKeySize
    }

    public var tableNames: Set<String> { Set(names) }

    public func table(_ name: String) -> Table {
        guard let index = names.firstIndex(of: name) else { preconditionFailure("unknown index table \(name)") }
        return Table(name: name, number: UInt32(index))
    }

    public func read<T>(_ body: (borrowing Transaction) throws -> T) throws -> T {
        let snapshot = committed.withLock { $0 }
        return try body(Transaction(backend: MemoryTransaction(tables: snapshot, names: names, maxKeySize: nil)))
    }

    public func write<T>(_ body: (borrowing Transaction) throws -> T) throws -> T {
        var outcome: Result<T, any Error>?
        writer.withLock { _ in
            let transaction = MemoryTransaction(
                tables: committed.withLock { $0 }, names: names, maxKeySize: maxKeySize)
            outcome = Result { try body(Transaction(backend: transaction)) }
            if case .success = outcome { committed.withLock { $0 = transaction.tables } }
        }
        return try outcome!.get()
    }

    /// Nothing to make durable.
    public func sync() throws {}
}

/// Why the memory store refused an operation.
public enum MemoryIndexError: Error, CustomStringConvertible {
    case readOnly(table: String)
    case keyTooLong(table: String, length: Int, maximum: Int)
    case emptyKey(table: String)

    public var description: String {
        switch self {
        case .readOnly(let table): return "write to table \(table) in a read transaction"
        case .keyTooLong(let table, let length, let maximum):
            return "key of \(length) bytes in table \(table); the longest is \(maximum)"
        case .emptyKey(let table): return "empty key in table \(table)"
        }
    }
}

/// One table: its keys in byte order, and their values.
struct MemoryTable {
    var keys: [[UInt8]] = []
    var values: [[UInt8]: [UInt8]] = [:]

    /// The index of the first key >= `key`.
    func lowerBound(_ key: [UInt8]) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle].lexicographicallyPrecedes(key) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// One transaction over a private copy of the tables. `maxKeySize` nil: read-only.
final class MemoryTransaction: IndexTransactionBackend {
    var tables: [MemoryTable]
    let names: [String]
    let maxKeySize: Int?

    init(tables: [MemoryTable], names: [String], maxKeySize: Int?) {
        self.tables = tables
        self.names = names
        self.maxKeySize = maxKeySize
    }

    private func index(_ table: Table) -> Int {
        let index = Int(table.number)
        precondition(index < names.count && names[index] == table.name, "table \(table.name) is not this store's")
        return index
    }

    private func writable(_ table: Table) throws -> Int {
        guard maxKeySize != nil else { throw MemoryIndexError.readOnly(table: table.name) }
        return index(table)
    }

    func get(_ table: Table, _ key: [UInt8]) throws -> [UInt8]? { tables[index(table)].values[key] }

    func contains(_ table: Table, _ key: [UInt8]) throws -> Bool { tables[index(table)].values[key] != nil }

    func put(_ table: Table, _ key: [UInt8], _ value: [UInt8]) throws {
        let i = try writable(table)
        // LMDB refuses empty and over-long keys; so does this store, so tests catch them.
        guard !key.isEmpty else { throw MemoryIndexError.emptyKey(table: table.name) }
        if let maximum = maxKeySize, key.count > maximum {
            throw MemoryIndexError.keyTooLong(table: table.name, length: key.count, maximum: maximum)
        }
        if tables[i].values.updateValue(value, forKey: key) == nil {
            let position = tables[i].lowerBound(key)
            tables[i].keys.insert(key, at: position)
        }
    }

    func delete(_ table: Table, _ key: [UInt8]) throws -> Bool {
        let i = try writable(table)
        guard tables[i].values.removeValue(forKey: key) != nil else { return false }
        tables[i].keys.remove(at: tables[i].lowerBound(key))
        return true
    }

    func scan(
        _ table: Table, from: [UInt8], _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        // A copy (free until written): `body` may write to this transaction while it walks.
        let walked = tables[index(table)]
        var position = walked.lowerBound(from)
        while position < walked.keys.count {
            let key = walked.keys[position]
            let value = walked.values[key]!
            let goOn = try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try body(k, v) } }
            if !goOn { return }
            position += 1
        }
    }

    func count(_ table: Table) throws -> Int { tables[index(table)].keys.count }

    func clear(_ table: Table) throws {
        let i = try writable(table)
        tables[i] = MemoryTable()
    }

    func nested<T>(_ body: (any IndexTransactionBackend) throws -> T) throws -> T {
        let savepoint = tables
        do {
            return try body(self)
        } catch {
            tables = savepoint
            throw error
        }
    }
}
