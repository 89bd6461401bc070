import DepotConfig
import Logging
import ServiceLifecycle
import Synchronization

/// `depot serve` in cluster mode: brings the schema up to date, registers this node in
/// `depot_nodes` and writes its heartbeat every `NodeRegistry.heartbeatIntervalSeconds`.
///
/// A database outage never stops or blocks the server: every call is bounded
/// (`ClusterDatabase`), a failure is logged once when the outage starts and once when it ends,
/// and the loop retries with a backoff doubling up to `maximumBackoffSeconds`. The loop ends on
/// cancellation or graceful shutdown.
public final class NodeHeartbeat: Service, Sendable {
    let settings: ClusterSettings
    let version: String
    let database: ClusterDatabase
    let inFlight: @Sendable () -> Int
    let logger: Logger
    /// The address nodes and load balancers reach this node at, and whether the listener
    /// announced it yet.
    private let address: Mutex<(url: String, announced: Bool)>
    /// The registry as read after this node's last heartbeat, and when (for the metrics, which
    /// are scraped without waiting on PostgreSQL); nil before the first heartbeat.
    private let lastView = Mutex<(nodes: [ClusterNode], at: ContinuousClock.Instant)?>(nil)
    /// Whether this node's last heartbeat reached the database.
    private let indexReachable = Atomic<Bool>(false)

    /// The longest pause between attempts while the database is unreachable.
    public static let maximumBackoffSeconds: Double = 8

    public init(
        settings: ClusterSettings, version: String, address: String, inFlight: @escaping @Sendable () -> Int, logger: Logger
    ) {
        self.settings = settings
        self.version = version
        self.inFlight = inFlight
        self.logger = logger
        self.address = Mutex((address, false))
        database = ClusterDatabase(location: settings.index, maximumConnections: 2, operationTimeout: 5, logger: logger)
    }

    /// This node's name in the registry (`cluster.node`).
    public var nodeName: String { settings.node }
    /// The cluster index, without its password.
    public var indexDescription: String { settings.index.description }
    /// Uploads in progress on this node now.
    public var uploadsInFlight: Int { inFlight() }
    /// Whether this node's last heartbeat reached the database.
    public var isIndexReachable: Bool { indexReachable.load(ordering: .relaxed) }

    /// Every registered node, read from the database now (bounded like every call).
    public func nodes() async throws -> [ClusterNode] { try await NodeRegistry(database: database).nodes() }

    /// The registry as of this node's last heartbeat, with the heartbeat ages brought forward to
    /// now (this node's own clock), for the metrics; nil before the first heartbeat.
    public var lastKnownNodes: [ClusterNode]? {
        guard let view = lastView.withLock({ $0 }) else { return nil }
        let elapsed = ContinuousClock.now - view.at
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return view.nodes.map { $0.aged(by: seconds) }
    }

    /// The URL the server listens on, once it is known (port 0 picks one at start).
    public func announce(address url: String) { address.withLock { $0 = (url, true) } }

    /// The longest a node waits for its listener before registering with the configured address.
    static let listenerWaitSeconds = 30

    /// Registration says the node serves: it waits for the listener (bounded), so a node whose
    /// port failed to open is never shown alive, and the row holds the real port.
    func waitForListener() async {
        for _ in 0..<(Self.listenerWaitSeconds * 10) {
            if address.withLock({ $0.announced }) || Task.isCancelled { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.database.run() }
            await cancelWhenGracefulShutdown { await self.beatUntilCancelled() }
            group.cancelAll()
        }
    }

    func beatUntilCancelled() async {
        await waitForListener()
        var registered = false
        var outage = false
        var backoff = 1.0
        while !Task.isCancelled {
            var pause = NodeRegistry.heartbeatIntervalSeconds
            do {
                try await beatOnce(registered: &registered)
                indexReachable.store(true, ordering: .relaxed)
                if let nodes = try? await NodeRegistry(database: database).nodes() {
                    lastView.withLock { $0 = (nodes, ContinuousClock.now) }
                }
                if outage {
                    logger.notice("cluster index \(settings.index) reachable again; node \(settings.node) heartbeat resumed")
                }
                outage = false
                backoff = 1
            } catch is CancellationError {
                return
            } catch {
                indexReachable.store(false, ordering: .relaxed)
                if !outage {
                    logger.error(
                        "cluster index \(settings.index) unreachable (\(error)); node \(settings.node) keeps serving and retries")
                } else {
                    logger.debug("cluster index still unreachable: \(error)")
                }
                outage = true
                registered = false
                pause = backoff
                backoff = min(backoff * 2, Self.maximumBackoffSeconds)
            }
            do {
                try await Task.sleep(for: .milliseconds(Int64(pause * 1000)))
            } catch {
                return
            }
        }
    }

    /// Registers (after migrating) when not registered yet, else writes the heartbeat.
    func beatOnce(registered: inout Bool) async throws {
        let registry = NodeRegistry(database: database)
        let url = address.withLock { $0.url }
        if registered, try await registry.beat(name: settings.node, address: url, inFlight: inFlight()) { return }
        let outcome = try await SchemaMigrator(database: database).migrate()
        if !outcome.applied.isEmpty {
            logger.notice("cluster index \(settings.index): schema migrated from version \(outcome.from) to \(outcome.to)")
        }
        if let other = try await registry.register(name: settings.node, version: version, address: url, inFlight: inFlight()) {
            logger.error(
                "node name \(settings.node) was in use by a live node at \(other): give each node its own cluster.node, or the two overwrite each other's heartbeat"
            )
        }
        registered = true
        logger.info("node \(settings.node) registered in cluster index \(settings.index)")
    }
}

/// Uploads in progress on this node (the server decides which requests count: UploadRequests),
/// for `in_flight` in `depot_nodes`: a node about to be restarted shows whether it still has
/// uploads running.
public final class InFlightCount: Sendable {
    private let count = Atomic<Int>(0)
    public init() {}
    public func enter() { count.wrappingAdd(1, ordering: .relaxed) }
    public func leave() { count.wrappingSubtract(1, ordering: .relaxed) }
    public var current: Int { max(0, count.load(ordering: .relaxed)) }
}
