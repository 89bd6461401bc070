import AsyncHTTPClient
import DepotCluster
import DepotConfig
import DepotConsole
import DepotEngine
import DepotEvents
import DepotObjectBody
import DepotS3
import DepotTiering
import DepotVault
import Glibc
import HTTPTypes
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// Depot's one HTTP listener. It routes by path prefix to the front doors (S3 at `/`, health
/// now; Vault, admin and metrics as they arrive) and answers `Expect: 100-continue` when a front
/// door first reads the body (ContinueOnFirstRead), so never for a request refused before that.
public final class DepotServer: Sendable {
    let runtime: RuntimeConfiguration
    let source: ConfigurationSource?
    /// The configuration in effect: the file's with the admin API's changes, as of the latest
    /// reload or change.
    public var configuration: DepotConfiguration { runtime.current }
    let engine: Engine
    let s3: S3Service
    let vault: VaultService
    let console: ConsoleService
    let accounts: AccountStore
    let root: Account
    let httpClient: HTTPClient
    let tiering: TieringService
    let events: EventDispatcher
    let gauges: StorageGauges
    let swagger: SwaggerUI
    let admin: AdminAPI
    let accessLog: AccessLog
    let health: HealthEndpoints
    /// The client's address behind trusted proxies (server.trustedProxies).
    let forwardedClient: ForwardedClient
    /// The `export AWS_…` lines printed once listening, on the first start on the data directory.
    let firstStart: FirstStartBanner?
    let logger: Logger
    /// Cluster mode: this node's registration and heartbeat in the cluster index (nil: embedded).
    let clusterNode: NodeHeartbeat?
    /// Uploads in progress (UploadRequests), the `in_flight` a cluster node reports.
    let writesInFlight = InFlightCount()
    /// Whether this node runs each background pass over the index (ClusterCoordination).
    let leadership: any MaintenanceLeadership
    /// Cluster mode: follows configuration changes made through other nodes (nil: embedded).
    let configurationFollower: ConfigurationFollower?

    /// `source` is where reloads (SIGHUP, a change to the file, the admin API) read the
    /// configuration from; without one, the configuration is fixed.
    public init(configuration: DepotConfiguration, source: ConfigurationSource? = nil, logger: Logger) throws {
        self.source = source
        self.logger = logger
        clusterNode = configuration.cluster.map { [writesInFlight] cluster in
            NodeHeartbeat(
                settings: cluster, version: DepotVersion.current, address: configuration.server.address,
                inFlight: { writesInFlight.current }, logger: logger)
        }
        let data = configuration.storage.data
        var engineConfiguration = EngineConfiguration(
            dataDirectory: data, chunking: configuration.storage.chunking,
            segmentSize: configuration.storage.segmentSize, region: configuration.server.region,
            cacheWrittenData: configuration.storage.cacheWrittenData, reserve: configuration.storage.reserve,
            encryption: EncryptionKeys(
                keys: configuration.encryption.keys, defaultKeyId: configuration.encryption.defaultKeyId,
                previousKeys: configuration.encryption.previousKeys,
                allowCustomerKeysOverHTTP: configuration.encryption.allowCustomerKeysOverHTTP))
        try engineConfiguration.chooseChunkStore(configuration.cluster, logger: logger)
        // Cluster mode: the secrets every node must share derive from cluster.keyFile (ClusterKey);
        // nil keeps embedded mode's files in the data directory.
        let clusterKey = ClusterIndexSetup.sharedKey(configuration.cluster)
        engineConfiguration.accountSealingKey = clusterKey?.accountSealingKey
        // Cluster mode: the shared PostgreSQL index (schema prepared by `ClusterIndexSetup.prepare`);
        // nil keeps embedded mode's LMDB index, the same path as before.
        let sharedIndex = ClusterIndexSetup.index(configuration.cluster, logger: logger)
        // Account records an earlier version stored in clear are sealed before the engine maps
        // the index, which the sealing compacts (issue 14 #7). The shared index never held any.
        if sharedIndex == nil { try Engine.sealStoredAccounts(configuration: engineConfiguration, logger: logger) }
        engine = try Engine(configuration: engineConfiguration, indexStore: sharedIndex, logger: logger)
        let generationAtStart = ClusterCoordination.generationAtStart(of: sharedIndex, logger: logger)
        let leadership = ClusterCoordination.leadership(configuration.cluster, logger: logger)
        self.leadership = leadership
        let isFirstStart = access(data + "/" + FirstStartBanner.firstStartMarker, F_OK) != 0
        root = try RootCredentials.load(dataDirectory: data, clusterKey: clusterKey) { message in
            print(message)
        }
        let environmentPassword = getenv("DEPOT_ROOT_PASSWORD").map { String(cString: $0) }
        firstStart =
            isFirstStart
            ? FirstStartBanner(
                accessKey: root.accessKey, secret: root.secretKey == environmentPassword ? nil : root.secretKey,
                region: configuration.server.region) : nil
        let runtime = try RuntimeConfiguration(base: configuration, engine: engine, logger: logger)
        self.runtime = runtime
        let effective = runtime.current
        let accounts = AccountStore(root: root, configured: try Self.accounts(of: effective, engine: engine))
        self.accounts = accounts
        engine.setQuotas(Account.quotas(of: accounts.configured()))
        // The file is made in cluster mode too: it marks this data directory's first start.
        let urlSigningFile = try SecretFile.load(path: data + "/url-signing-key", bytes: 32)
        let urlSigningKey = clusterKey?.urlSigningKey ?? urlSigningFile
        // Made after everything that can fail but the event sinks: a client dropped without a
        // shutdown stops the process with an assertion instead of the startup error's message.
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        self.httpClient = httpClient
        tiering = TieringService(
            engine: engine, configuration: effective, httpClient: httpClient, logger: logger, leadership: leadership)
        let events: EventDispatcher
        do {
            events = try EventDispatcher(
                engine: engine, settings: effective.events, client: httpClient, region: effective.server.region, logger: logger)
        } catch {
            try? httpClient.syncShutdown()
            throw error
        }
        self.events = events
        _ = DepotMetrics.registry  // bootstraps swift-metrics once
        swagger = SwaggerUI(configured: nil)
        health = HealthEndpoints(engine: engine, dataDirectory: data, drain: Drain(delay: configuration.server.drainDelay))
        forwardedClient = ForwardedClient(trustedProxies: configuration.server.trustedProxies)
        gauges = StorageGauges(
            engine: engine, tiering: tiering, events: events, tierNames: { runtime.current.tiers.map(\.name) }, logger: logger)
        let trace = TraceHub()
        accessLog = AccessLog(logger: logger, trace: trace)
        var reloader: (@Sendable () async throws -> [String])?
        if let source {
            reloader = { try await runtime.rebuild(base: try source.load(), isReload: true) }
        }
        let adminAPI = AdminAPI(
            engine: engine, accounts: accounts, tiering: tiering, events: events, runtime: runtime, started: Engine.now(),
            reloader: reloader, trace: trace, cluster: clusterNode)
        admin = adminAPI
        let forwardEngine = engine
        let tiering = tiering
        let (engine, root) = (engine, root)
        runtime.onChange { configuration in
            tiering.apply(configuration)
            try events.apply(configuration.events)
            accounts.replaceConfigured(try Self.accounts(of: configuration, engine: engine))
            engine.setQuotas(Account.quotas(of: accounts.configured()))
            try await Self.createBuckets(configuration.bucketsToCreate, engine: engine, owner: root.accessKey)
        }
        configurationFollower = ClusterCoordination.follower(
            configuration.cluster, index: sharedIndex, baseline: generationAtStart, runtime: runtime, logger: logger)
        vault = VaultService(
            engine: engine, accounts: { accounts.configured() },
            forward: { bucket, key in
                // Vault's forward/media: carried out like `depot replicate`, to the tiers of the
                // policies that match the recording.
                guard let record = try forwardEngine.headObject(bucket: bucket, key: key) else { return false }
                let tiers = tiering.onDemandTiers(bucket: bucket, key: key, record: record)
                guard !tiers.isEmpty else { return false }
                return try await forwardEngine.requestReplication(bucket: bucket, key: key, tiers: tiers)
            },
            policyDenies: {
                [logger, denial = BucketPolicyDenial(engine: engine, secureTransport: configuration.server.tls != nil)]
                account, action, bucket, key in
                // The S3 door's evaluator: a bucket policy's Deny fences Vault accounts in too.
                switch try denial.verdict(accessKey: account.accessKey, name: account.name, action: action, bucket: bucket, key: key) {
                case .notDenied: return false
                case .denied: return true
                case .policyUnreadable:
                    logger.error("bucket \(bucket): its stored policy does not parse; every Vault request it would decide is refused")
                    return true
                }
            }, urlSigningKey: urlSigningKey,
            urlScheme: configuration.server.tls == nil ? "http" : "https",
            uploadExpiry: Int64(configuration.storage.uploadExpiry),
            maxObjectSize: UInt64(configuration.server.maxObjectSize),
            uploadLocks: ClusterIndexSetup.uploadLocks(configuration.cluster, logger: logger), logger: logger)
        var s3Settings = S3Settings(region: configuration.server.region, domain: configuration.server.domain)
        s3Settings.maxObjectSize = UInt64(configuration.server.maxObjectSize)
        s3Settings.urlScheme = configuration.server.tls == nil ? "http" : "https"
        // A bucket's lifecycle rules are policies of the configuration in effect (RuntimeConfiguration).
        s3Settings.lifecycleChanged = { [runtime] in try await runtime.rebuild() }
        s3Settings.tiers = { [runtime] in runtime.current.tiers }
        s3Settings.notificationChanged = { [runtime] in try await runtime.rebuild() }
        s3Settings.eventSettings = { [runtime] in runtime.current.events }
        // Storage classes and lifecycle rules as object requests read them (S3ConfigurationView).
        s3Settings.configurationView = { [runtime] in runtime.s3View }
        s3 = S3Service(engine: engine, accounts: accounts, settings: s3Settings, logger: logger)
        console = ConsoleService(
            engine: engine, s3: s3, accounts: accounts, region: configuration.server.region,
            secure: configuration.server.tls != nil, logger: logger,
            tierNames: { [runtime] in runtime.current.tiers.map(\.name) },
            admin: { [adminAPI] method, path, body in await adminAPI.consoleCall(method: method, path: path, body: body) },
            sharedSessionKey: clusterKey?.consoleSessionKey)
    }

    /// Creates the buckets the configuration lists, owned by the root account.
    static func createBuckets(_ names: [String], engine: Engine, owner: String) async throws {
        for name in names where try engine.bucket(name) == nil {
            try await engine.createBucket(name, owner: owner)
        }
    }

    /// The configuration's accounts and those stored in the index (a key in both keeps the
    /// configuration's version).
    static func accounts(of configuration: DepotConfiguration, engine: Engine) throws -> [Account] {
        let stored = try StoredAccounts.load(engine).filter { account in
            !configuration.accounts.contains { $0.accessKey == account.accessKey }
        }
        return configuration.accounts + stored
    }

    /// Runs until SIGTERM or SIGINT, then drains (readiness fails for `server.drainDelay` while
    /// everything is still served, when a balancer probes readiness), stops accepting, lets
    /// requests in flight finish, and closes the engine after the last commit.
    public func run(onListening: @escaping @Sendable (String) -> Void) async throws {
        do {
            try await serve(onListening: onListening)
        } catch {
            // Whatever failed (the listener, a TLS file, a bucket), the client and the engine
            // are closed: a client dropped without a shutdown would stop the process with an
            // assertion instead of the error's message.
            try? await httpClient.shutdown()
            engine.shutdown()
            throw Self.startupProblem(error, address: configuration.server.address) ?? error
        }
        try? await httpClient.shutdown()
        engine.shutdown()
    }

    private func serve(onListening: @escaping @Sendable (String) -> Void) async throws {
        guard let address = HostPort.parse(configuration.server.address) else {
            throw ServerError.startup("server.address is not HOST:PORT")
        }
        try await Self.createBuckets(configuration.bucketsToCreate, engine: engine, owner: root.accessKey)
        // Key rotation: data keys still wrapped by a `previous:` master key get the current one.
        for keyId in try await engine.rewrapEncryptionDomains() {
            logger.notice("encryption key \(keyId): its data key is now wrapped by the current master key")
        }
        let scheme = configuration.server.tls == nil ? "http" : "https"
        let limiter = Self.connectionLimiter(configuration.server.maxConnections, logger: logger)
        let transferRate = TransferRateGuard.Settings(
            minimumRate: configuration.server.minTransferRate, window: .seconds(Int64(configuration.server.transferRateWindow)))
        let logger = logger
        let httpConfiguration = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                ConnectionCapHandler(limiter: limiter), MalformedRequestHandler(), RefusedBodyDrain(),
                TransferRateGuard(settings: transferRate, logger: logger),
            ],
            idleTimeout: .seconds(300),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 * 1024, maxHeaderListSize: 64 * 1024, maxHeaderFieldCount: 200)
        )
        var tlsConfiguration: TLSConfiguration?
        if let tls = configuration.server.tls {
            let certificates = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
            tlsConfiguration = TLSConfiguration.makeServerConfiguration(
                certificateChain: certificates, privateKey: .privateKey(key))
        }
        let builder = ConnectionsOnTheirLoops.serverBuilder(
            http: httpConfiguration, tls: tlsConfiguration,
            onTheirLoops: ConnectionsOnTheirLoops.wanted(clusterIndex: ClusterIndexSetup.sharesIndex(configuration.cluster)))
        let server = try builder.buildServer(
            configuration: ServerConfiguration(address: .hostname(address.host, port: address.port), serverName: "Depot"),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger,
            responder: { [self] request, responseWriter, channel in
                try await self.respond(request, responseWriter, channel: channel)
            },
            onServerRunning: { [logger] channel in
                await AcceptBackoff.install(on: channel, logger: logger)
                let port = channel.localAddress?.port ?? address.port
                onListening("\(scheme)://\(address.host):\(port)")
                self.clusterNode?.announce(address: "\(scheme)://\(address.host):\(port)")
                if let banner = self.firstStart {
                    print(banner.text(listeningOn: "\(scheme)://\(address.host):\(port)"))
                    fflush(nil)
                }
                // systemd (Type=notify): started once the port takes connections.
                SystemdNotify.send("READY=1\nSTATUS=listening on \(scheme)://\(address.host):\(port)")
            })
        let maintenance = MaintenanceService(
            engine: engine, interval: configuration.storage.gcInterval, uploadExpiry: configuration.storage.uploadExpiry,
            leadership: leadership, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: server), .init(service: maintenance), .init(service: tiering), .init(service: events),
            .init(service: gauges), .init(service: HeapTrimmer(logger: logger)), .init(service: IngestHistoryKeeper(engine: engine)),
            .init(
                service: SpaceRecovery(
                    engine: engine, segmentSize: configuration.storage.segmentSize, leadership: leadership, logger: logger)),
        ]
        if let clusterNode { services.append(.init(service: clusterNode)) }
        if let configurationFollower { services.append(.init(service: configurationFollower)) }
        if let path = source?.path {
            services.append(.init(service: ConfigurationWatcher(path: path) { reason in await self.reloadLoggingErrors(reason) }))
        }
        var groupConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
        // A graceful stop is bounded (server.drainTimeout): what is still running after this is
        // cancelled (requests in flight fail, event deliveries stay in the outbox, tier copies
        // stay queued).
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(configuration.server.drainTimeout)
        let group = ServiceGroup(configuration: groupConfiguration)
        ShutdownSignals.install(group, drain: health.drain, logger: logger) { await self.reloadLoggingErrors("SIGHUP") }
        try await group.run()
    }

    /// The listener's failure to bind, said the way an operator fixes it.
    static func startupProblem(_ error: any Error, address: String) -> ServerError? {
        if let unknown = error as? SocketAddressError.UnknownHost {
            return .startup("address \(address): no such host \(unknown.host)")
        }
        guard let io = error as? IOError else { return nil }
        switch io.errnoCode {
        case EADDRINUSE: return .startup("address \(address) is already in use")
        case EADDRNOTAVAIL: return .startup("address \(address) is not an address of this machine")
        case EACCES: return .startup("address \(address): permission denied (ports below 1024 need privileges)")
        default: return nil
        }
    }

    /// Reads the configuration again and puts what can change at run time into effect: tiers,
    /// policies (and so the replication and delete planners and retention), accounts and the
    /// buckets to create. Returns the names of settings that changed but need a restart. A
    /// configuration that does not parse changes nothing.
    @discardableResult
    public func reload() async throws -> [String] {
        guard let source else { throw ServerError.startup("no configuration source to reload from") }
        return try await runtime.rebuild(base: try source.load(), isReload: true)
    }

    func reloadLoggingErrors(_ reason: String) async {
        do {
            let ignored = try await reload()
            logger.info(
                "configuration reloaded (\(reason)): \(configuration.tiers.count) tiers, \(configuration.policies.count) policies"
            )
            if !ignored.isEmpty {
                logger.warning(
                    "configuration reload: \(ignored.joined(separator: ", ")) changed; they take effect at the next start")
            }
        } catch {
            logger.error("configuration reload (\(reason)) failed, keeping the current configuration: \(error)")
        }
    }

    /// The OpenAPI document and Swagger UI, at the root and under /api (where Vault users look).
    private func documentationResponse(path: String, method: HTTPRequest.Method) -> Response? {
        guard method == .get || method == .head else { return nil }
        let local = path.hasPrefix("/api/") ? String(path.dropFirst(4)) : path
        func reply(_ bytes: [UInt8], _ type: String) -> Response {
            Response(
                status: .ok, headers: [.contentType: type, .contentLength: String(bytes.count)],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        switch local {
        case ReservedPath.openAPI.path: return reply(OpenAPI.json, "application/json")
        case "/swagger", "/swagger/":
            return Response(
                status: .found, headers: [.location: path.hasPrefix("/api/") ? "/api/swagger/index.html" : "/swagger/index.html"])
        case "/swagger/index.html": return reply(Array(swagger.indexHTML.utf8), "text/html; charset=utf-8")
        default:
            guard local.hasPrefix("/swagger/"), let asset = swagger.asset(String(local.dropFirst("/swagger/".count))) else {
                return nil
            }
            return reply(asset.bytes, asset.type)
        }
    }

    /// Picks the front door by path prefix: `/api/` is the Vault API, `/admin/` the admin API,
    /// `/console` the web console (and `/` for a browser, BrowserVisit), everything else S3.
    /// Returns the front door's name too: the `api` of metrics and the log.
    private func dispatch(_ request: Request, path: String) async -> (api: String, response: Response) {
        if ReservedPath.api.covers(path) || path.hasPrefix(ReservedPath.api.path + "?") {
            return ("vault", await vault.respond(to: request))
        }
        if path.hasPrefix(ReservedPath.admin.path + "/") {
            return ("admin", await admin.respond(to: request))
        }
        if ReservedPath.console.covers(path) || path.hasPrefix(ReservedPath.console.path + "?") {
            return ("console", await console.respond(to: request))
        }
        // A person's browser at `/` goes to the console; S3 clients (signed, no Accept: text/html) never do.
        if BrowserVisit.wantsConsole(method: request.method, target: path, headers: request.headers) {
            RequestOutcome.current?.record { $0.operation = "console" }
            return ("console", ConsoleService.redirectToConsole())
        }
        return ("s3", await s3.respond(to: request))
    }

    private func respond(_ request: Request, _ responseWriter: consuming ResponseWriter, channel: any Channel) async throws {
        let target = request.head.path ?? "/"
        let question = target.firstIndex(of: "?")
        let path = String(question.map { target[..<$0] } ?? target[...])
        let metrics = RequestMetrics()
        // The front door's own decision (its endpoint table's operation), error code and access key.
        let outcome = RequestOutcome()
        // The bytes that actually moved, for the access log (ByteCounting.swift).
        let (received, sent) = (ByteCount(), ByteCount())
        let requestId = RequestContext.makeId()
        let clientAddress = forwardedClient.address(peer: channel.remoteAddress?.ipAddress, headers: request.headers)
        let mayWrite = clusterNode != nil && UploadRequests.counts(method: request.method, path: path)
        if mayWrite { writesInFlight.enter() }
        defer { if mayWrite { writesInFlight.leave() } }
        var response: Response
        // The API that answered; the server's own endpoints are `system`, each under a fixed name.
        var api = "system"
        if path == ReservedPath.metrics.path && request.method == .get {
            outcome.record { $0.operation = "metrics" }
            try? gauges.prepareForScrape()
            ClusterGauges.record(clusterNode)
            let body = DepotMetrics.exposition()
            response = Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .contentLength: String(body.count)],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        } else if let documentation = documentationResponse(path: path, method: request.method) {
            outcome.record { $0.operation = "documentation" }
            response = documentation
        } else if let probe = health.response(target: target, method: request.method) {
            outcome.record { $0.operation = probe.operation }
            response = probe.response
        } else {
            // Every front door and operation: `100 Continue` on the body's first read, if asked for.
            let request = CountedRequestBody.applied(
                to: ContinueOnFirstRead.applied(to: request, channel: channel), counter: received)
            (api, response) = await RequestContext.$id.withValue(requestId) {
                await RequestContext.$clientAddress.withValue(clientAddress) {
                    await RequestOutcome.$current.withValue(outcome) {
                        await ConnectionContext.$closed.withValue(channel.closeFuture) {
                            await dispatch(request, path: target)
                        }
                    }
                }
            }
        }
        // A refused request's body may not have been read (or even sent, after Expect:
        // 100-continue); reading it to the end would be wasted work or would take the next
        // request for body bytes. Close the connection instead, after a bounded drain
        // (RefusedBodyDrain) so that the client reads the error rather than a reset.
        let hasBody = request.headers[.transferEncoding] != nil || (request.headers[.contentLength].flatMap(Int.init) ?? 0) > 0
        let closeAfter = response.status.code >= 400 && hasBody
        if closeAfter { response.headers[.connection] = "close" }
        let counted = CountingBodyWriter.counted(response.body, counter: sent)
        // The access line is written whether or not the client stayed for the whole answer.
        var written: (any Error)?
        do {
            try await responseWriter.write(response: response.head, body: counted)
        } catch {
            written = error
        }
        let decided = outcome.fields
        let operation = decided.operation ?? RequestMetrics.unknownOperation
        metrics.finish(
            api: api, operation: operation, status: response.status.code, bytesIn: received.value, bytesOut: sent.value,
            errorCode: decided.errorCode)
        accessLog.record(
            AccessRecord(
                requestId: requestId, api: api, operation: operation, method: request.method.rawValue, path: path,
                status: response.status.code, errorCode: decided.errorCode, accessKey: decided.accessKey,
                account: decided.account, bucket: decided.bucket, key: decided.key, bytesIn: received.value,
                bytesOut: sent.value, durationMilliseconds: metrics.elapsedMilliseconds,
                clientAddress: clientAddress, userAgent: request.headers[.userAgent]),
            mode: configuration.server.accessLog)
        if let written { throw written }
        if closeAfter { await RefusedBodyDrain.drainThenClose(channel) }
    }
}

/// Runs the background upkeep on a schedule: expiring abandoned uploads (whose parts then
/// become garbage) and compacting segments.
struct MaintenanceService: Service {
    let engine: Engine
    let interval: Int
    let uploadExpiry: Int
    /// Cluster mode: one node at a time expires abandoned uploads in the shared index and
    /// compacts the shared store's packs (embedded mode: the only node does both).
    let leadership: any MaintenanceLeadership
    let logger: Logger

    func run() async throws {
        guard interval > 0 else {
            try? await gracefulShutdown()
            return
        }
        while await pauseUnlessShuttingDown(.seconds(interval)) {
            if await leadership.mayRun(.abandonedUploads) {
                do {
                    let expired = try await engine.expireUploads(olderThan: Int64(uploadExpiry) * 1000)
                    if expired > 0 { logger.info("expired \(expired) abandoned uploads") }
                } catch {
                    logger.error("expiring abandoned uploads failed: \(error)")
                }
            }
            guard await leadership.mayRun(.compaction) else { continue }
            do {
                let report = try await engine.compact()
                for problem in report.problems { logger.error("compaction: \(problem)") }
                if report.segmentsCompacted > 0 {
                    logger.info("compacted \(report.segmentsCompacted) segments, reclaimed \(report.bytesReclaimed) bytes")
                }
            } catch {
                logger.error("background compaction failed: \(error)")
            }
        }
    }
}
