import ArgumentParser
import DepotConfig
import DepotEngine
import DepotServer
import Glibc
import Logging

@main
struct Depot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "depot",
        abstract:
            "A storage gateway for video-surveillance recordings: S3 and Kerberos Vault in front, a deduplicating chunk store inside.",
        version: "depot \(DepotVersion.current)",
        subcommands: [
            Serve.self, ConfigCommand.self, Fsck.self, GC.self, IndexCommand.self, Status.self, Tier.self, Replicate.self,
            Replication.self, AccountCommand.self, PolicyCommand.self, Events.self, VersionCommand.self, Routes.self, Trace.self,
            ClusterCommand.self,
        ])
}

/// Options every command that opens a data directory shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: the embedded default configuration).")
    var config: String?

    @Option(name: .long, help: "Data directory (overrides storage.data).")
    var data: String?

    func load() throws -> DepotConfiguration {
        var configuration = try loadConfiguration(config)
        if let data { configuration.storage.data = data }
        return configuration
    }

    func engineConfiguration() throws -> EngineConfiguration {
        let c = try load()
        var configuration = EngineConfiguration(
            dataDirectory: c.storage.data, chunking: c.storage.chunking, segmentSize: c.storage.segmentSize,
            region: c.server.region, cacheWrittenData: c.storage.cacheWrittenData, reserve: c.storage.reserve,
            encryption: EncryptionKeys(
                keys: c.encryption.keys, defaultKeyId: c.encryption.defaultKeyId,
                previousKeys: c.encryption.previousKeys,
                allowCustomerKeysOverHTTP: c.encryption.allowCustomerKeysOverHTTP))
        // With cluster.chunks the records are in pack objects, for these commands as for serve.
        try configuration.chooseChunkStore(c.cluster, logger: Logger(label: "depot"))
        return configuration
    }
}

func loadConfiguration(_ path: String?) throws -> DepotConfiguration {
    guard let path else { return try DepotConfiguration.parse(yaml: DepotConfiguration.defaultYAML) }
    let text: String
    do {
        text = try ConfigurationFile.read(path)
    } catch let error as ConfigError {
        throw CommandFailure(error.message)
    }
    do {
        return try DepotConfiguration.parse(yaml: text)
    } catch let error as ConfigError {
        throw ValidationError("\(path): \(error)")
    }
}

/// A failure the operator fixes outside the command line (a wrong path, a missing variable):
/// printed as `Error: <description>` without the usage text, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Prints to stderr (progress and diagnostics; stdout is for results).
func printError(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
