import DepotHashing
import Dispatch
import Foundation

/// The ETag's MD5 across concurrent uploads, without a network or a disk: N writer threads feed
/// N streams of the same pseudo-random bytes in 64 KiB pieces (like a socket's) into the shared
/// multi-buffer service that uploads use, against N threads each running OpenSSL's MD5. Reported
/// in MB hashed per CPU-second of this whole process (writers' copies and the service's worker
/// included), since on two shared cores CPU per byte is what bounds PUT throughput.
struct MD5Ceiling: Encodable {
    struct Row: Encodable {
        var streams: Int
        var openSSLMegabytesPerCPUSecond: Double
        var multiBufferMegabytesPerCPUSecond: Double
    }
    var kernel: String
    var rows: [Row]

    static func measure(megabytes: Int) -> MD5Ceiling {
        let input = CeilingInput(megabytes: megabytes)
        let rows = [1, 8, 16].map { streams in
            Row(
                streams: streams,
                openSSLMegabytesPerCPUSecond: best(of: 3, streams: streams, input) { input in
                    let digest = StreamingDigest(.md5)
                    input.feed { digest.update($0) }
                    _ = digest.finalize()
                },
                multiBufferMegabytesPerCPUSecond: best(of: 3, streams: streams, input) { input in
                    let stream = MultiBufferHashing.shared.makeMD5Stream()
                    input.feed { stream.update($0) }
                    _ = stream.finalize()
                })
        }
        return MD5Ceiling(kernel: "\(MD5Kernel.best)", rows: rows)
    }

    /// The best of a few runs of `streams` threads, each hashing the whole input once, in MB per
    /// CPU-second of the process: the machine's other tenants only ever slow a run down.
    private static func best(
        of runs: Int, streams: Int, _ input: CeilingInput, _ body: @escaping @Sendable (CeilingInput) -> Void
    ) -> Double {
        var fastest = 0.0
        for _ in 0..<runs {
            let before = processCPUSeconds()
            let group = DispatchGroup()
            for index in 0..<streams {
                DispatchQueue(label: "md5-ceiling-\(index)").async(group: group) { body(input) }
            }
            group.wait()
            let seconds = processCPUSeconds() - before
            fastest = max(fastest, Double(streams * input.bytes.count) / 1e6 / seconds)
        }
        return fastest
    }

    private static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
