import ArgumentParser
import DepotConfig
import DepotEngine
import DepotServer
import Glibc
import Logging

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Validate or print configuration.", subcommands: [Check.self, Default.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a configuration file; names the bad field on error.")
        @Argument(help: "The configuration file.") var file: String

        func run() throws {
            let text: String
            do {
                text = try ConfigurationFile.read(file)
            } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
            do {
                _ = try DepotConfiguration.parse(yaml: text)
                print("\(file): valid")
            } catch {
                printError("\(file): \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Default: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the embedded default configuration.")
        func run() { print(DepotConfiguration.defaultYAML, terminator: "") }
    }
}

struct Fsck: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Verify every chunk hash and manifest; with --rebuild-index, rebuild the index from the segments (cluster mode: from the packs into an empty database).")

    @OptionGroup var store: StoreOptions

    @Flag(name: .long, help:
            "Rebuild the index from the log alone (stop the server first): LMDB from the segment files, or in cluster mode PostgreSQL (freshly initialised) from the packs.")
    var rebuildIndex = false

    @Flag(
        name: .long,
        help: "Cluster mode, with --rebuild-index: empty the filled shared index first (refused while a node's heartbeat is fresh).")
    var force = false

    @Flag(name: .long, help: "Cluster mode: read back every chunk record (default: a sample of each pack).")
    var full = false

    @Flag(name: .long, help: "Cluster mode: delete orphan packs (no index row points into them) older than --orphan-age.")
    var removeOrphans = false

    @Option(name: .long, help: "Cluster mode: seconds after which an unreferenced pack is an orphan, not an upload committing.")
    var orphanAge: Double = 3600

    func run() throws {
        let loaded = try store.load()
        if ClusterFsck.applies(loaded) {
            try runCluster(loaded)
            return
        }
        guard !full, !removeOrphans, !force else {
            throw ValidationError(
                "--full, --remove-orphans and --force apply in cluster mode; embedded fsck reads every record and rebuilds beside the old index")
        }
        let configuration = try store.engineConfiguration()
        if rebuildIndex {
            let rebuildProgress = ProgressReporter(task: "fsck --rebuild-index")
            let report = try Engine.rebuildIndex(
                configuration: configuration, progress: rebuildProgress.note, advance: rebuildProgress.update)
            rebuildProgress.finish()
            print(
                "rebuilt index: \(report.buckets) buckets, \(report.objects) objects, \(report.chunks) chunks from \(report.records) records in \(report.segments) segments"
            )
            for line in report.restoredLines { print(line) }
            for problem in report.problems { print("problem: \(problem)") }
            if !report.problems.isEmpty { throw ExitCode(1) }
        }
        let engine = try Engine(configuration: configuration)
        defer { engine.shutdown() }
        let progress = ProgressReporter(task: "fsck")
        let report = try engine.fsck(progress: progress.note, advance: progress.update)
        progress.finish()
        for tail in report.tornTails { print("note: \(tail) (torn tail of an interrupted write; harmless)") }
        for problem in report.problems { print("problem: \(problem)") }
        print(
            "fsck: \(report.segments) segments, \(report.records) records, \(report.chunkRecords) chunks (\(report.bytesVerified) bytes) verified, \(report.objects) objects: "
                + (report.isClean ? "clean" : "\(report.problems.count) problems"))
        if !report.isClean { throw ExitCode(1) }
    }
}

extension Fsck {
    /// Cluster mode: the shared index against the pack store, while the nodes serve (ClusterFsck).
    func runCluster(_ configuration: DepotConfiguration) throws {
        if rebuildIndex {
            guard !full, !removeOrphans else { throw ValidationError("--full and --remove-orphans do not apply to --rebuild-index") }
            let progress = ProgressReporter(task: "fsck --rebuild-index")
            let report = try ClusterRebuild.run(
                configuration, force: force, logger: Logger(label: "depot.rebuild"), progress: progress.note, advance: progress.update)
            progress.finish()
            print(
                "rebuilt index: \(report.buckets) buckets, \(report.objects) objects, \(report.chunks) chunks from \(report.records) records in \(report.segments) packs"
            )
            for line in report.restoredLines { print(line) }
            for problem in report.problems { print("problem: \(problem)") }
            if !report.problems.isEmpty { throw ExitCode(1) }
            return
        }
        guard !force || rebuildIndex else { throw ValidationError("--force goes with --rebuild-index") }
        guard orphanAge >= 0 else { throw ValidationError("--orphan-age must be 0 or more seconds") }
        var options = PackFsckOptions()
        options.full = full
        options.removeOrphans = removeOrphans
        options.orphanAgeSeconds = orphanAge
        options.verifyContentHash = configuration.encryption.keys.isEmpty
        let progress = ProgressReporter(task: "fsck")
        let report = try ClusterFsck.run(
            configuration, options: options, logger: Logger(label: "depot.fsck"), progress: progress.note)
        progress.finish()
        for line in report.liveSummary { print(line) }
        for note in report.notes { print("note: \(note)") }
        for problem in report.problems { print("problem: \(problem)") }
        print(
            "fsck: \(report.packs) packs (\(report.packBytes) bytes), \(report.chunks) chunks, \(report.recordsVerified) records (\(report.bytesVerified) bytes) verified, \(report.objects) objects: "
                + (report.isClean ? "clean" : "\(report.problems.count) problems"))
        if !report.isClean { throw ExitCode(1) }
    }
}

struct GC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Compact segments whose live ratio is low (the server also does this on a schedule).")

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Compact segments whose live bytes are below this fraction of their size.")
    var threshold: Double = 0.5

    func run() async throws {
        if ClusterFsck.applies(try store.load()) {
            // Over a local index it would find no pack to compact and say so, which misleads.
            throw CommandFailure(
                "in cluster mode the nodes compact the packs themselves every storage.gcIntervalSeconds, one node at a time (README \"Pack compaction and fsck in cluster mode\"); depot gc works on a data directory's segments"
            )
        }
        let engine = try Engine(configuration: try store.engineConfiguration())
        defer { engine.shutdown() }
        let progress = ProgressReporter(task: "gc")
        let report = try await engine.compact(threshold: threshold, progress: progress.note, advance: progress.update)
        progress.finish()
        print(
            "gc: compacted \(report.segmentsCompacted) segments, copied \(report.bytesCopied) bytes, reclaimed \(report.bytesReclaimed) bytes, punched \(report.bytesPunched) bytes of dead records"
        )
        for problem in report.problems { print("problem: \(problem)") }
        if !report.problems.isEmpty { throw ExitCode(1) }
    }
}

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index", abstract: "Inspect the index.", subcommands: [Dump.self])

    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a canonical, sorted dump of the index.")
        @OptionGroup var store: StoreOptions

        func run() throws {
            let engine = try Engine(configuration: try store.engineConfiguration())
            defer { engine.shutdown() }
            try engine.dumpIndex { print($0) }
        }
    }
}

/// `depot routes`: every admin and Vault operation the server answers, as the OpenAPI check
/// compares them with the document.
struct Routes: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the admin and Vault API operations (METHOD /path), one per line.", shouldDisplay: false)
    func run() {
        for route in OpenAPI.routes.sorted() { print(route) }
    }
}

extension RebuildReport {
    /// What the rebuild restored besides the objects' bytes, one `restored:` line per kind, so an
    /// admin sees that accounts, tiers and policies made at run time came back.
    var restoredLines: [String] {
        // Settings kinds by the word an admin knows them by; a kind added later shows as stored.
        let settingNames = ["tier": "tiers", "policy": "policies", "job": "replication jobs"]
        var lines = [
            "restored: \(buckets) buckets", "restored: \(objects) objects",
            "restored: \(versions) versions (of versioned buckets' keys, delete markers included)",
            "restored: \(accounts) accounts made through the admin API or `depot account add` (sealed)",
        ]
        for kind in ["tier", "policy", "job"] {
            lines.append("restored: \(settings[kind] ?? 0) \(settingNames[kind]!) made through the admin API")
        }
        for (kind, count) in settings.sorted(by: { $0.key < $1.key }) where settingNames[kind] == nil {
            lines.append("restored: \(count) stored \(kind) settings")
        }
        for (name, count) in bucketDocuments.sorted(by: { $0.key < $1.key }) {
            lines.append("restored: \(count) bucket \(name) documents")
        }
        lines.append("restored: \(encryptionDomains) encryption domains (wrapped data keys)")
        lines.append("restored: \(requeuedCopies) pending tier copies queued again")
        return lines
    }
}
