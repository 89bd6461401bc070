import DepotStorage

/// A read transaction answered from `OutageReadCache` while PostgreSQL cannot be reached: point
/// reads of rows the cache may serve succeed; anything else fails with the outage's error, so
/// the request gets 503 SlowDown as it would without the cache.
final class OutageSnapshot: IndexTransactionBackend {
    let cache: OutageReadCache
    /// Why PostgreSQL could not be used (the error the read met).
    let outage: PostgresIndexError

    init(cache: OutageReadCache, outage: PostgresIndexError) {
        self.cache = cache
        self.outage = outage
    }

    private func unavailable(_ what: String) -> PostgresIndexError {
        .unreachable(operation: what, reason: "\(outage); this node's outage cache cannot answer it")
    }

    func get(_ table: Table, _ key: [UInt8]) throws -> [UInt8]? {
        switch cache.lookup(table: table.number, key: key) {
        case .known(let value): return value
        case .unknown: throw unavailable("reading \(table.name)")
        }
    }

    func contains(_ table: Table, _ key: [UInt8]) throws -> Bool {
        try get(table, key) != nil
    }

    func put(_ table: Table, _ key: [UInt8], _ value: [UInt8]) throws {
        throw PostgresIndexError.invalid("write to table \(table.name) in a read transaction")
    }

    func delete(_ table: Table, _ key: [UInt8]) throws -> Bool {
        throw PostgresIndexError.invalid("delete from table \(table.name) in a read transaction")
    }

    /// A walk needs every row of a range, which the cache cannot promise: refused.
    func scan(
        _ table: Table, from: [UInt8], _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        throw unavailable("scanning \(table.name)")
    }

    func count(_ table: Table) throws -> Int {
        throw unavailable("counting \(table.name)")
    }

    func clear(_ table: Table) throws {
        throw PostgresIndexError.invalid("clear of table \(table.name) in a read transaction")
    }

    func nested<T>(_ body: (any IndexTransactionBackend) throws -> T) throws -> T {
        try body(self)
    }
}
