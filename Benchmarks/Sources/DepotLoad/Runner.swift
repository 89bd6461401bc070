import AsyncHTTPClient
import DepotSigV4
import Foundation
import NIOCore
import Synchronization

/// Runs one workload with `concurrency` workers and measures it.
struct Runner: Sendable {
    let client: LoadClient
    let workload: Workload
    let serverPID: Int32?
    /// The processes whose CPU time a run reports (with their descendants); empty: none.
    let cpuRoots: [Int32]
    /// The random bytes PUT bodies are made from: as raw memory for the S3 streams, and as a
    /// `ByteBuffer` of the same bytes for the Vault and tus requests (AsyncHTTPClient).
    let shared: SharedBlock
    let block: ByteBuffer
    /// Different in every run, so no run's objects deduplicate against an earlier run's.
    let runSeed = UInt64.random(in: 0...UInt64.max)
    /// `/bucket/prefix`, percent-encoded as sent and signed.
    let basePath: String
    let address: SocketAddress

    init(client: LoadClient, workload: Workload, serverPID: Int32?, cpuRoots: [Int32] = []) throws {
        self.client = client
        self.workload = workload
        self.serverPID = serverPID
        self.cpuRoots = cpuRoots
        shared = SharedBlock()
        block = ByteBuffer(bytes: UnsafeRawBufferPointer(shared.bytes))
        basePath = SigV4Encoding.encodePath("/\(workload.bucket)/\(workload.prefix)")
        guard client.endpoint.hasPrefix("http://") else { throw LoadError("the load speaks plain http:// only") }
        address = try SocketAddress(host: client.hostName, port: client.port)
        try S3RequestRenderer.selfCheck(
            accessKey: client.vaultKeys.access, secretKey: client.vaultKeys.secret, host: client.host,
            path: objectPath(0))
    }

    /// A new S3 stream (connection, renderer) for one thread.
    func makeStream() -> S3Stream {
        S3Stream(
            address: address,
            renderer: S3RequestRenderer(
                accessKey: client.vaultKeys.access, secretKey: client.vaultKeys.secret, host: client.host),
            block: shared)
    }

    func objectPath(_ index: Int) -> String { client.basePath + basePath + "obj-\(index)" }

    /// Objects that reads, HEADs, deletes and listings work on, written before the clock starts.
    func prepare() async throws -> Int {
        if let existing = workload.existing { return existing }
        switch workload.operation {
        case .get, .range, .head: return try await putObjects(min(workload.count, max(workload.concurrency * 2, 16)))
        case .delete: return try await putObjects(min(workload.count, 20_000))  // deletes past these find nothing, as S3 allows
        case .list: return try await putObjects(min(workload.count, 1000))
        default: return 0
        }
    }

    private func putObjects(_ n: Int) async throws -> Int {
        let counters = Counters()
        let failures = await StreamThreads.run(min(8, n), counters: counters) { () -> String? in
            let stream = makeStream()
            while !counters.stop.load(ordering: .relaxed) {
                let i = counters.next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < n else { return nil }
                do {
                    let reply = try stream.request(
                        "PUT", path: objectPath(i), headers: [("content-length", String(workload.size))],
                        body: (workload.size, runSeed &+ UInt64(i)))
                    guard reply.status == 200 else { throw LoadError("preparing object \(i): HTTP \(reply.status)") }
                } catch {
                    counters.stop.store(true, ordering: .relaxed)
                    return "\(error)"
                }
            }
            return nil
        }
        if let failure = failures.compactMap({ $0 }).first { throw LoadError(failure) }
        return n
    }

    /// One S3 operation on a stream's connection; returns the payload bytes it moved.
    func perform(_ index: Int, pool: Int, on stream: S3Stream) throws -> Int {
        let size = workload.size
        switch workload.operation {
        case .put:
            let reply = try stream.request(
                "PUT", path: objectPath(index), headers: [("content-length", String(size))],
                body: (size, runSeed &+ UInt64(index)))
            try expect(reply.status, 200)
            return size
        case .get:
            let reply = try stream.request("GET", path: objectPath(index % pool))
            try expect(reply.status, 200)
            return reply.bytes
        case .range:
            let length = max(1, size / 4)
            let start = (index * 7919) % max(1, size - length + 1)
            let reply = try stream.request(
                "GET", path: objectPath(index % pool), headers: [("range", "bytes=\(start)-\(start + length - 1)")])
            try expect(reply.status, 206)
            return reply.bytes
        case .head:
            try expect(try stream.request("HEAD", path: objectPath(index % pool)).status, 200)
            return 0
        case .delete:
            try expect(try stream.request("DELETE", path: objectPath(index)).status, 204)
            return 0
        case .list:
            let prefix = SigV4Encoding.encode(workload.prefix)
            let reply = try stream.request(
                "GET", path: client.basePath + "/\(SigV4Encoding.encode(workload.bucket))",
                query: "list-type=2&max-keys=1000&prefix=\(prefix)")
            try expect(reply.status, 200)
            return reply.bytes
        case .vaultPost, .tus:
            throw LoadError("\(workload.operation.rawValue) is not an S3 operation")
        }
    }

    /// One Vault operation through AsyncHTTPClient; returns the payload bytes it moved.
    func performVault(_ index: Int) async throws -> Int {
        let size = workload.size
        switch workload.operation {
        case .vaultPost:
            var request = HTTPClientRequest(url: client.endpoint + "/api/storage")
            request.method = .POST
            vaultHeaders(&request, filename: "\(index)_6-967003_bench_200-200-400-400_24_769.mp4")
            request.headers.add(name: "content-length", value: String(size))
            request.body = LoadClient.body(size: size, block: block, seed: runSeed &+ UInt64(index))
            try expect(try await client.execute(request).status, 200)
            return size
        case .tus:
            var create = HTTPClientRequest(url: client.endpoint + "/api/storage/tus")
            create.method = .POST
            vaultHeaders(&create, filename: nil)
            let name = Data("\(index)_6-967003_bench_200-200-400-400_24_769.mp4".utf8).base64EncodedString()
            create.headers.add(name: "Tus-Resumable", value: "1.0.0")
            create.headers.add(name: "Upload-Length", value: String(size))
            create.headers.add(name: "Upload-Metadata", value: "filename \(name)")
            let response = try await client.http.execute(create, timeout: .seconds(60))
            guard response.status.code == 201, let location = response.headers.first(name: "location") else {
                throw LoadError("tus create: HTTP \(response.status.code)")
            }
            _ = try await response.body.collect(upTo: 1 << 20)
            let url = location.hasPrefix("http") ? location : client.endpoint + location
            var offset = 0
            repeat {
                let piece = min(8 << 20, size - offset)
                var patch = HTTPClientRequest(url: url)
                patch.method = .PATCH
                vaultHeaders(&patch, filename: nil)
                patch.headers.add(name: "Tus-Resumable", value: "1.0.0")
                patch.headers.add(name: "Upload-Offset", value: String(offset))
                patch.headers.add(name: "Content-Type", value: "application/offset+octet-stream")
                patch.headers.add(name: "content-length", value: String(piece))
                patch.body = LoadClient.body(
                    size: piece, block: block, seed: runSeed &+ UInt64(index) &* 4096 &+ UInt64(offset >> 23))
                try expect(try await client.execute(patch).status, 204)
                offset += piece
            } while offset < size
            return size
        default:
            throw LoadError("\(workload.operation.rawValue) is not a Vault operation")
        }
    }

    private func vaultHeaders(_ request: inout HTTPClientRequest, filename: String?) {
        request.headers.add(name: "X-Kerberos-Storage-AccessKey", value: client.vaultKeys.access)
        request.headers.add(name: "X-Kerberos-Storage-SecretAccessKey", value: client.vaultKeys.secret)
        request.headers.add(name: "X-Kerberos-Storage-Directory", value: "bench")
        if let filename { request.headers.add(name: "X-Kerberos-Storage-FileName", value: filename) }
    }

    private func expect(_ status: some BinaryInteger, _ wanted: Int) throws {
        guard status == wanted else { throw LoadError("HTTP \(status), wanted \(wanted)") }
    }

    func run() async throws -> RunResult {
        let pool = try await max(1, prepare())
        let sampler = RSSSampler(pid: serverPID)
        let counters = Counters()
        let serverCPU = ServerCPU(roots: cpuRoots)
        let cpuBefore = cpuRoots.isEmpty ? 0 : serverCPU.seconds()
        let started = ContinuousClock.now
        let deadline = started + workload.duration
        let progress = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let seconds = (ContinuousClock.now - started).seconds
                FileHandle.standardError.write(
                    Data(
                        String(
                            format: "\r  %@ %@ c%d: %d ops, %.1f MB/s   ", workload.operation.rawValue,
                            "\(workload.size)", workload.concurrency, counters.done.load(ordering: .relaxed),
                            Double(counters.moved.load(ordering: .relaxed)) / seconds / 1e6
                        ).utf8))
            }
        }
        let latencies: [Double]
        if workload.operation == .vaultPost || workload.operation == .tus {
            latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for _ in 0..<workload.concurrency {
                    group.addTask {
                        var mine: [Double] = []
                        while !Task.isCancelled, ContinuousClock.now < deadline {
                            let index = counters.next.wrappingAdd(1, ordering: .relaxed).oldValue
                            guard index < workload.count else { break }
                            let begin = ContinuousClock.now
                            do {
                                counters.record(try await performVault(index), since: begin, in: &mine)
                            } catch {
                                counters.record(error)
                            }
                        }
                        return mine
                    }
                }
                var all: [Double] = []
                for try await part in group { all += part }
                return all
            }
        } else {
            // S3: one thread and one kept-alive connection per stream, blocking calls.
            latencies = await StreamThreads.run(workload.concurrency, counters: counters) { () -> [Double] in
                let stream = makeStream()
                var mine: [Double] = []
                while !counters.stop.load(ordering: .relaxed), ContinuousClock.now < deadline {
                    let index = counters.next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < workload.count else { break }
                    let begin = ContinuousClock.now
                    do {
                        counters.record(try perform(index, pool: pool, on: stream), since: begin, in: &mine)
                    } catch {
                        counters.record(error)
                    }
                }
                return mine
            }.flatMap { $0 }
        }
        let seconds = (ContinuousClock.now - started).seconds
        let cpuSeconds = cpuRoots.isEmpty ? nil : serverCPU.seconds() - cpuBefore
        progress.cancel()
        FileHandle.standardError.write(Data("\n".utf8))
        return RunResult(
            workload: workload, latencies: latencies, errors: counters.failures.load(ordering: .relaxed), seconds: seconds,
            bytes: counters.moved.load(ordering: .relaxed), peakRSS: sampler.stop(),
            firstError: counters.firstError.withLock { $0 },
            serverCPUSeconds: cpuSeconds)
    }
}

/// Shared counters of a run's workers.
final class Counters: Sendable {
    let next = Atomic<Int>(0)
    let done = Atomic<Int>(0)
    let moved = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
    let firstError = Mutex<String?>(nil)
    /// Set when the run is cancelled (or, while preparing, when a PUT fails): streams stop.
    let stop = Atomic<Bool>(false)

    func record(_ bytes: Int, since begin: ContinuousClock.Instant, in latencies: inout [Double]) {
        latencies.append((ContinuousClock.now - begin).seconds)
        moved.add(bytes, ordering: .relaxed)
        done.add(1, ordering: .relaxed)
    }

    func record(_ error: any Error) {
        failures.add(1, ordering: .relaxed)
        firstError.withLock { if $0 == nil { $0 = "\(error)" } }
    }
}

/// Runs `count` threads of blocking work and waits for all of them without holding a thread of
/// Swift's cooperative pool (two threads here: the load's 32 blocking streams would starve it).
/// Cancelling the waiting task sets `counters.stop`, which the work checks between requests; every socket
/// call is bounded by its timeout.
enum StreamThreads {
    private final class Results<T: Sendable>: Sendable {
        let values = Mutex<[T]>([])
        let left: Atomic<Int>
        init(_ count: Int) { left = Atomic(count) }
    }

    static func run<T: Sendable>(
        _ count: Int, counters: Counters, _ work: @escaping @Sendable () -> T
    ) async -> [T] {
        guard count > 0 else { return [] }
        let results = Results<T>(count)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[T], Never>) in
                for _ in 0..<count {
                    let thread = Thread {
                        let value = work()
                        results.values.withLock { $0.append(value) }
                        if results.left.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                            continuation.resume(returning: results.values.withLock { $0 })
                        }
                    }
                    thread.stackSize = 1 << 20
                    thread.start()
                }
            }
        } onCancel: {
            counters.stop.store(true, ordering: .relaxed)
        }
    }
}

struct LoadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
