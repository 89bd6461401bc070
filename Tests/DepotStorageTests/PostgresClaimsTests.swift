import DepotCluster
import DepotConfig
import DepotStorage
import Dispatch
import Glibc
import Logging
import Synchronization
import Testing

/// The claim SQL of the PostgreSQL index (PostgresIndex+Claims.swift) against a real server: two
/// `PostgresIndex` instances with different claimants over the same tables stand for two nodes.
/// Enabled when DEPOT_TEST_POSTGRES_INDEX names a database (Tests/integration/test_cluster_claims.py).
@Suite(.enabled(if: IndexStoreTests.IndexStoreKind.postgresLocation != nil))
struct PostgresClaimsTests {
    /// Nodes "a" and "b" over one fresh queue table shaped like migration 2's depot_tasks.
    func withNodes(lease: Double = 30, _ body: (PostgresIndex, PostgresIndex) throws -> Void) throws {
        let name = "claims_test_\(UInt64.random(in: 0..<UInt64.max))"
        let logger = Logger(label: "postgres-claims-tests")
        let location = IndexStoreTests.IndexStoreKind.postgresLocation!
        let a = PostgresIndex(location: location, tables: [("q", name)], claimant: "a", leaseSeconds: lease, logger: logger)
        let b = PostgresIndex(location: location, tables: [("q", name)], claimant: "b", leaseSeconds: lease, logger: logger)
        try a.execute("CREATE TABLE \(name) (k bytea PRIMARY KEY, v bytea NOT NULL, claimed_by text, lease_until timestamptz)")
        defer { try? a.execute("DROP TABLE \(name)") }
        try body(a, b)
    }

    func fill(_ index: PostgresIndex, _ keys: [UInt8]) throws {
        let q = index.table("q")
        try index.write { txn in
            for key in keys { try txn.put(q, [key], [key, key]) }
        }
    }

    @Test func whatOneNodeClaimsTheOtherCannotUntilReleased() throws {
        try withNodes { a, b in
            let q = a.table("q")
            try fill(a, [5, 1, 4, 2, 3])
            let first = try a.claim(q, through: nil, limit: 3, scanLimit: 100, accept: nil)
            // Oldest first, values with them.
            #expect(first.map(\.key) == [[1], [2], [3]])
            #expect(first.map(\.value) == [[1, 1], [2, 2], [3, 3]])
            #expect(try b.claim(q, through: nil, limit: 10, scanLimit: 100, accept: nil).map(\.key) == [[4], [5]])
            #expect(try a.claim(q, through: nil, limit: 10, scanLimit: 100, accept: nil).isEmpty)
            // Only the holder renews or releases.
            #expect(try b.renew(q, keys: [[1], [4]]) == [[4]])
            try b.release(q, keys: [[1], [2]])
            #expect(try b.claim(q, through: nil, limit: 10, scanLimit: 100, accept: nil).isEmpty)
            try a.release(q, keys: [[2]])
            #expect(try b.claim(q, through: nil, limit: 10, scanLimit: 100, accept: nil).map(\.key) == [[2]])
            // Removing the work removes the claim with it.
            #expect(try a.remove(q, keys: [[1], [9]]) == 1)
            #expect(try a.read { try $0.count(q) } == 4)
        }
    }

    @Test func throughBoundsTheKeysAndAcceptFiltersWithoutClaimingTheRest() throws {
        try withNodes { a, b in
            let q = a.table("q")
            try fill(a, Array(0..<40))
            // The due bound: keys up to [3] only.
            #expect(try a.claim(q, through: [3], limit: 10, scanLimit: 100, accept: nil).map(\.key) == [[0], [1], [2], [3]])
            // A filter on the value: only odd ones, oldest first, at most 3.
            let odd = try b.claim(q, through: [30], limit: 3, scanLimit: 100, accept: { _, value in value[0] % 2 == 1 })
            #expect(odd.map(\.key) == [[5], [7], [9]])
            // Rows the filter passed over stay claimable; rows another node holds are not offered.
            let rest = try a.claim(q, through: [10], limit: 100, scanLimit: 100, accept: { _, _ in true })
            #expect(rest.map(\.key) == [[4], [6], [8], [10]])
            // scanLimit bounds the rows looked at, accepted or not.
            let few = try b.claim(q, through: nil, limit: 100, scanLimit: 5, accept: { _, value in value[0] % 2 == 0 })
            #expect(few.map(\.key) == [[12], [14]])
        }
    }

    @Test func anExpiredLeaseIsTakenOverAndARenewedOneIsNot() throws {
        try withNodes(lease: 1) { a, b in
            let q = a.table("q")
            try fill(a, [1, 2])
            #expect(try a.claim(q, through: nil, limit: 10, scanLimit: 100, accept: nil).count == 2)
            usleep(600_000)
            // Key 1 renewed (another second), key 2 left to lapse.
            #expect(try a.renew(q, keys: [[1]]) == [[1]])
            usleep(600_000)
            #expect(try b.claim(q, through: nil, limit: 10, scanLimit: 100, accept: nil).map(\.key) == [[2]])
            // The node whose lease lapsed no longer holds it: its renewal says so.
            #expect(try a.renew(q, keys: [[1], [2]]) == [[1]])
        }
    }

    @Test func theIndexsOwnWritesKeepClaimsAndANewKeyStartsUnclaimed() throws {
        try withNodes { a, b in
            let q = a.table("q")
            try fill(a, [1])
            #expect(try a.claim(q, through: nil, limit: 10, scanLimit: 100, accept: nil).count == 1)
            // A put of the claimed key (the k/v seam) changes its value, not its claim; a
            // rescheduled task is a new key, unclaimed.
            try a.write { txn in
                try txn.put(q, [1], [7])
                try txn.put(q, [2], [8])
            }
            #expect(try b.claim(q, through: nil, limit: 10, scanLimit: 100, accept: nil).map(\.value) == [[8]])
            #expect(try a.renew(q, keys: [[1]]) == [[1]])
        }
    }

    @Test func twoNodesClaimingAtOnceNeverShareAnEntry() throws {
        try withNodes { a, b in
            let q = a.table("q")
            try fill(a, Array(0..<200))
            let taken = Mutex<[String: [[UInt8]]]>([:])
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                let node = i == 0 ? a : b
                var mine: [[UInt8]] = []
                while true {
                    guard
                        let batch = try? node.claim(
                            q, through: nil, limit: 7, scanLimit: 100, accept: i == 0 ? nil : { _, _ in true }),
                        !batch.isEmpty
                    else { break }
                    mine += batch.map(\.key)
                }
                taken.withLock { $0[node.claimant] = mine }
            }
            let all = taken.withLock { $0 }
            let first = all["a"] ?? []
            let second = all["b"] ?? []
            #expect(Set(first).isDisjoint(with: second))
            #expect(first.count + second.count == 200)
        }
    }
}
