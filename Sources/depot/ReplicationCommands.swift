import ArgumentParser
import Foundation
import Glibc

struct Replicate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send objects to a tier on demand (by keys, or every key under a prefix, optionally only newer ones).",
        discussion:
            "Prints what was queued (objects already on the tier or on their way are counted as such) and the job's id; with --wait, follows the job with a progress line until it ends."
    )
    @Argument(help: "The bucket.") var bucket: String
    @Argument(help: "Keys to send.") var keys: [String] = []
    @Option(help: "Send every object under this key prefix.") var prefix: String?
    @Option(help: "With --prefix: only objects stored at or after this Unix time (seconds).") var since: Int64?
    @Option(help: "The tier to send to.") var tier: String
    @Option(help: "With --existing: the policy whose matching objects to send.") var policy: String?
    @Flag(help: "Backfill: send every existing object the policy matches (objects stored before it existed).")
    var existing = false
    @OptionGroup var wait: JobWaitOptions
    @OptionGroup var admin: AdminOptions

    func validate() throws {
        if existing != (policy != nil) { throw ValidationError("--existing and --policy go together") }
        if keys.isEmpty && prefix == nil && policy == nil {
            throw ValidationError("name keys, or give --prefix, or --policy NAME --existing")
        }
    }

    func run() async throws {
        var body: [String: Any] = ["bucket": bucket, "tier": tier, "keys": keys]
        if let prefix { body["prefix"] = prefix }
        if let since { body["since"] = since * 1000 }
        if let policy { body["policy"] = policy }
        // The server queues every object before it answers: a backfill of many takes a while.
        var client = admin.client
        client.requestTimeout = 3600
        let result = try await client.call(.POST, "/admin/v1/replicate", body: body)
        // With --json --wait one document: the request's answer, and the job's final state under "final".
        if admin.json && wait.wait, let job = result["job"] as? String {
            return try await wait.follow(job: job, admin: admin) { final in
                var merged = result
                merged["final"] = final
                return merged
            }
        }
        admin.emit(result) {
            let missing = result["missing"] as? [String] ?? []
            var line = "queued \(result["queued"] ?? 0) objects for \(tier)"
            var done: [String] = []
            if let replicated = result["alreadyReplicated"] as? Int, replicated > 0 {
                done.append("\(replicated) already replicated")
            }
            if let queued = result["alreadyQueued"] as? Int, queued > 0 { done.append("\(queued) already queued") }
            if !done.isEmpty { line += " (" + done.joined(separator: ", ") + ")" }
            if !missing.isEmpty { line += "; not found: " + missing.joined(separator: ", ") }
            if let job = result["job"] as? String, !wait.wait {
                line += "\njob \(job): follow it with `depot replication job \(job) --wait`"
            }
            return line
        }
        if wait.wait, let job = result["job"] as? String { try await wait.follow(job: job, admin: admin) }
    }
}

/// `--wait` and `--timeout` of the commands that start or show a replication job.
struct JobWaitOptions: ParsableArguments {
    @Flag(help: "Wait until the job ends (no copy pending), showing its progress; exit 1 if copies failed.")
    var wait = false
    @Option(help: "With --wait: give up waiting after this many seconds (exit 1; the job goes on).")
    var timeout: Double?

    func validate() throws {
        if timeout != nil && !wait { throw ValidationError("--timeout goes with --wait") }
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be more than 0 seconds") }
    }

    /// Polls the job once a second until nothing is pending (or the timeout), showing progress,
    /// then prints its final counts.
    func follow(
        job id: String, admin: AdminOptions, json: ([String: Any]) -> [String: Any] = { $0 }
    ) async throws {
        let progress = ProgressReporter(task: "replicate")
        let deadline = timeout.map { ProgressReporter.now() + $0 }
        var state = try await admin.call(.GET, "/admin/v1/replication/jobs/\(id)")
        while (state["done"] as? Bool) != true {
            progress.update(
                phase: "job \(id) to \(state["tier"] ?? "?")", count: Self.int(state["completed"]), unit: "objects",
                totalCount: Self.int(state["total"]), bytes: UInt64(Self.int(state["completedBytes"])),
                totalBytes: UInt64(Self.int(state["bytes"])))
            if let deadline, ProgressReporter.now() >= deadline {
                progress.finish()
                throw CommandFailure(
                    "job \(id) still has \(Self.int(state["pending"])) copies pending after \(Int(timeout ?? 0)) s; it goes on (depot replication job \(id))"
                )
            }
            try await Task.sleep(nanoseconds: 1_000_000_000)
            state = try await admin.call(.GET, "/admin/v1/replication/jobs/\(id)")
        }
        progress.update(
            phase: "job \(id) to \(state["tier"] ?? "?")", count: Self.int(state["completed"]), unit: "objects",
            totalCount: Self.int(state["total"]), bytes: UInt64(Self.int(state["completedBytes"])),
            totalBytes: UInt64(Self.int(state["bytes"])))
        progress.finish()
        admin.emit(json(state)) { JobText.summary(state) }
        if Self.int(state["failed"]) > 0 { throw ExitCode(1) }
    }

    static func int(_ value: Any?) -> Int { (value as? NSNumber)?.intValue ?? 0 }
}

enum JobText {
    /// `job 8f3a…: 12 objects to cloud: 10 completed, 0 pending, 2 failed, 0 gone (done)` and the failures.
    static func summary(_ job: [String: Any]) -> String {
        let int = JobWaitOptions.int
        var lines = [
            "job \(show(job["job"])): \(int(job["total"])) objects to \(show(job["tier"])) (bucket \(show(job["bucket"]))): "
                + "\(int(job["completed"])) completed, \(int(job["pending"])) pending, \(int(job["failed"])) failed, "
                + "\(int(job["gone"])) gone; \(humanBytes(int(job["completedBytes"]))) of \(humanBytes(int(job["bytes"]))) copied"
                + ((job["done"] as? Bool) == true ? " (done)" : "")
        ]
        for failure in job["failures"] as? [[String: Any]] ?? [] {
            lines.append(
                "  failed: \(show(failure["key"])) after \(show(failure["attempts"])) attempts: \(show(failure["lastError"]))")
        }
        return lines.joined(separator: "\n")
    }
}

struct Replication: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replication state: failed copies, one object's copies per tier, a job's progress.",
        subcommands: [List.self, Show.self, Job.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List copies to a tier that failed (gave up after their attempts), a page at a time.")
        @Flag(help: "Failed copies (the default; the only state listed).") var failed = false
        @Option(help: "Only copies of this state (failed).") var status: String?
        @Option(help: "Only objects of this bucket.") var bucket: String?
        @Option(help: "Only copies to this tier.") var tier: String?
        @Option(help: "Only keys starting with this.") var prefix: String?
        @OptionGroup var page: PageOptions
        @OptionGroup var admin: AdminOptions

        func validate() throws {
            // Pending copies are the backlog `depot status` counts per tier; only failures are listed.
            if let status, status.lowercased() != "failed" {
                throw ValidationError("--status: only failed copies are listed (pending ones are counted by `depot status`)")
            }
        }

        func run() async throws {
            let result = try await admin.call(
                .GET, "/admin/v1/replication/failed",
                query: page.query(["bucket": bucket, "tier": tier, "prefix": prefix]))
            admin.emit(result) {
                let rows = (result["failed"] as? [[String: Any]] ?? []).map { item in
                    [
                        show(item["bucket"]), show(item["key"]) + (item["versionId"].map { " (version \(show($0)))" } ?? ""),
                        show(item["tier"]), show(item["attempts"]), show(item["lastError"]),
                    ]
                }
                return table(["BUCKET", "KEY", "TIER", "ATTEMPTS", "LAST ERROR"], rows) + PageOptions.footer(result)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One object's replication: its state, attempts and last error on each tier, and pending tasks.")
        @Argument(help: "The bucket.") var bucket: String
        @Argument(help: "The object's key.") var key: String
        @Option(help: "A version of a versioned bucket's key instead of the current one.") var versionId: String?
        @OptionGroup var admin: AdminOptions

        func run() async throws {
            let result = try await admin.call(
                .GET, "/admin/v1/buckets/\(bucket)/objects/\(key)", query: versionId.map { [("versionId", $0)] } ?? [])
            admin.emit(result) {
                var lines = [
                    "\(bucket)/\(key)" + (versionId.map { " version \($0)" } ?? "")
                        + ": \(humanBytes((result["size"] as? NSNumber)?.intValue ?? 0)), local copy \(show(result["local"])), "
                        + "replication status \(show(result["replicationStatus"]))",
                    "",
                ]
                let rows = (result["replicas"] as? [[String: Any]] ?? []).map { replica in
                    [
                        show(replica["tier"]), show(replica["state"]), show(replica["attempts"]),
                        Self.time(replica["updated"]), show(replica["lastError"]),
                    ]
                }
                lines.append(
                    rows.isEmpty ? "no copy to any tier" : table(["TIER", "STATE", "ATTEMPTS", "UPDATED", "LAST ERROR"], rows))
                for task in result["pendingTasks"] as? [[String: Any]] ?? [] {
                    lines.append(
                        "pending: \(show(task["kind"])) to \(show(task["tier"])), due \(Self.time(task["due"])), attempts \(show(task["attempts"]))"
                    )
                }
                return lines.joined(separator: "\n")
            }
        }

        /// Milliseconds since the epoch as UTC ISO 8601.
        static func time(_ value: Any?) -> String {
            guard let ms = (value as? NSNumber)?.int64Value, ms > 0 else { return "-" }
            let formatter = ISO8601DateFormatter()
            return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
        }
    }

    struct Job: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A replication job's state: objects completed, pending, failed and gone, bytes copied.")
        @Argument(help: "The job's id (printed by `depot replicate`).") var id: String
        @OptionGroup var wait: JobWaitOptions
        @OptionGroup var admin: AdminOptions

        func run() async throws {
            if wait.wait { return try await wait.follow(job: id, admin: admin) }
            let result = try await admin.call(.GET, "/admin/v1/replication/jobs/\(id)")
            admin.emit(result) { JobText.summary(result) }
        }
    }
}
