import Benchmark
import DepotEngine
import DepotHashing
import DepotStorage
import Glibc

/// Throughput of the primitives on the write path. Each figure is compared, in the same run, with
/// this machine's own limit by `Benchmarks/run-micro.sh` (openssl speed, dd with fdatasync).
let benchmarks: @Sendable () -> Void = {
    let mebibyte = 1 << 20
    let input: [UInt8] = {
        var state: UInt64 = 42
        return (0..<(64 * mebibyte)).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }()
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput], timeUnits: .milliseconds, maxDuration: .seconds(5), maxIterations: 50)

    Benchmark("FastCDC chunking 64 MiB (1 core)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            var chunker = StreamingChunker(.standard)
            var chunks = 0
            input.withUnsafeBytes { bytes in
                chunker.append(bytes) { _ in chunks += 1 }
                chunker.finish { _ in chunks += 1 }
            }
            blackHole(chunks)
        }
    }

    for (name, algorithm) in [("SHA-256 64 MiB (OpenSSL EVP)", DigestAlgorithm.sha256), ("MD5 64 MiB (OpenSSL EVP)", .md5)] {
        Benchmark(name, configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations {
                let digest = StreamingDigest(algorithm)
                input.withUnsafeBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        digest.update(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + mebibyte]))
                        offset += mebibyte
                    }
                }
                blackHole(digest.finalize())
            }
        }
    }

    Benchmark("CRC32C 64 MiB", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(input.withUnsafeBytes { CRC32C.checksum($0) })
        }
    }

    Benchmark(
        "Segment append 1 MiB records + fdatasync every 8",
        configuration: .init(metrics: [.wallClock, .throughput], timeUnits: .milliseconds, maxDuration: .seconds(5))
    ) { benchmark in
        let directory = temporaryDirectory()
        defer { _ = system("rm -rf '\(directory)'") }
        let store = try SegmentStore(directory: directory, segmentSize: 1 << 30)
        let record = Array(input.prefix(mebibyte))
        for i in benchmark.scaledIterations {
            _ = try record.withUnsafeBytes { try store.append(kind: .chunk, payload: $0) }
            if i % 8 == 7 { try store.syncDirty() }
        }
        try store.syncDirty()
    }

    // The index seam (issue 21) put a backend switch in every Transaction call; these two show
    // what a read-heavy request path pays for it: point gets and an ordered walk, no fsync.
    Benchmark(
        "LMDB point reads (1000 gets per read transaction)",
        configuration: .init(metrics: [.wallClock, .throughput], timeUnits: .microseconds, maxDuration: .seconds(5))
    ) { benchmark in
        let (environment, table, directory) = try Benchmark.filledIndex(entries: 100_000)
        defer { _ = system("rm -rf '\(directory)'") }
        let keys = (0..<1000).map { Benchmark.indexKey(UInt64($0 * 97 % 100_000)) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let found = try environment.read { txn in
                var found = 0
                for key in keys where try txn.get(table, key) != nil { found += 1 }
                return found
            }
            blackHole(found)
        }
    }

    Benchmark(
        "LMDB ordered scan (10000 entries per read transaction)",
        configuration: .init(metrics: [.wallClock, .throughput], timeUnits: .microseconds, maxDuration: .seconds(5))
    ) { benchmark in
        let (environment, table, directory) = try Benchmark.filledIndex(entries: 100_000)
        defer { _ = system("rm -rf '\(directory)'") }
        let from = Benchmark.indexKey(50_000)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let walked = try environment.read { txn in
                var walked = 0
                try txn.scan(table, from: from) { key, value in
                    walked += key.count + value.count
                    return walked < 10_000 * 96
                }
                return walked
            }
            blackHole(walked)
        }
    }

    Benchmark(
        "LMDB batched commit (100 puts per durable transaction)",
        configuration: .init(metrics: [.wallClock, .throughput], timeUnits: .microseconds, maxDuration: .seconds(5))
    ) { benchmark in
        let directory = temporaryDirectory()
        defer { _ = system("rm -rf '\(directory)'") }
        let environment = try LMDBEnvironment(path: directory + "/index", tables: ["t"])
        let table = environment.table("t")
        var counter: UInt64 = 0
        for _ in benchmark.scaledIterations {
            try environment.write { txn in
                for _ in 0..<100 {
                    counter += 1
                    var key = withUnsafeBytes(of: counter.bigEndian) { Array($0) }
                    key += [UInt8](repeating: 7, count: 24)
                    try txn.put(table, key, [UInt8](repeating: 1, count: 64))
                }
            }
        }
    }
}

extension Benchmark {
    /// An index table of `count` entries with 32-byte keys (8-byte counter, big-endian, then
    /// padding: the shape of chunk-hash and object keys) and 64-byte values.
    static func filledIndex(entries count: UInt64) throws -> (LMDBEnvironment, Table, String) {
        let directory = temporaryDirectory()
        let environment = try LMDBEnvironment(path: directory + "/index", tables: ["t"])
        let table = environment.table("t")
        try environment.write { txn in
            for counter in 0..<count {
                try txn.put(table, indexKey(counter), [UInt8](repeating: 1, count: 64))
            }
        }
        return (environment, table, directory)
    }

    static func indexKey(_ counter: UInt64) -> [UInt8] {
        withUnsafeBytes(of: counter.bigEndian) { Array($0) } + [UInt8](repeating: 7, count: 24)
    }
}

func temporaryDirectory() -> String {
    var template = Array("/tmp/depot-bench-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
}
