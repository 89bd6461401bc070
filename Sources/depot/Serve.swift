import ArgumentParser
import DepotConfig
import DepotServer
import Glibc
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (S3 and Vault APIs on one port).")

    @Option(name: .long, help: "Configuration file (default: the embedded default configuration).")
    var config: String?

    @Option(name: .long, help: "Listen address HOST:PORT (overrides server.address; port 0 picks a free port).")
    var address: String?

    @Option(name: .long, help: "Data directory (overrides storage.data).")
    var data: String?

    @Option(name: .long, help: "Log format: text or json (overrides server.logFormat).")
    var logFormat: String?

    func run() async throws {
        var configuration = try loadConfiguration(config)
        // DEPOT_NIO_EXECUTOR=1: tasks on NIO's event loops from here on (ConcurrencyOnEventLoops).
        // Not in cluster mode: the PostgreSQL index blocks its caller, which must never be an
        // event loop (BlockingPostgres).
        if !ClusterIndexSetup.sharesIndex(configuration.cluster) { ConcurrencyOnEventLoops.installIfAsked() }
        if let address {
            guard HostPort.parse(address) != nil else { throw ValidationError("--address must be HOST:PORT") }
            configuration.server.address = address
        }
        if let data { configuration.storage.data = data }
        if let logFormat, !["text", "json"].contains(logFormat) { throw ValidationError("--log-format must be text or json") }
        // DEPOT_LOG_LEVEL, else server.logLevel (checked when the file was read).
        let levelName = getenv("DEPOT_LOG_LEVEL").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        guard let level = Logger.Level(rawValue: levelName ?? configuration.server.logLevel) else {
            throw CommandFailure(
                "DEPOT_LOG_LEVEL must be one of \(ServerSettings.logLevels.joined(separator: ", ")), got \"\(levelName ?? "")\"")
        }
        let json = (logFormat ?? configuration.server.logFormat) == "json"
        LoggingSystem.bootstrap(
            { label, provider in
                if json {
                    var handler = JSONLogHandler(label: label, metadataProvider: provider)
                    handler.logLevel = level
                    return handler
                }
                var handler = TextLogHandler(label: label, metadataProvider: provider)
                handler.logLevel = level
                return handler
            }, metadataProvider: requestMetadataProvider)
        let logger = Logger(label: "depot")
        // Reloads read the same file again (or the embedded default, which never changes).
        let path = config
        let source = ConfigurationSource(path: path) {
            // ConfigError as it is (not wrapped for the command line), so the admin API can
            // name the field of a broken file in its reply.
            guard let path else { return try DepotConfiguration.parse(yaml: DepotConfiguration.defaultYAML) }
            return try ConfigurationFile.load(path)
        }
        try await ClusterIndexSetup.prepare(configuration.cluster, logger: logger)
        let server = try DepotServer(configuration: configuration, source: source, logger: logger)
        try await server.run { url in
            print("depot listening on \(url)")
            fflush(nil)
        }
    }
}
