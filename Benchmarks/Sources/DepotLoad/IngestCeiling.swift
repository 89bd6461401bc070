import DepotHashing
import DepotStorage
import Foundation

/// The CPU work a PUT does per byte, without a network or a disk: FastCDC with SHA-256 of every
/// chunk (the ingest thread) and MD5 of the whole body (the ETag, on a thread of its own), each
/// timed on one core over the same pseudo-random bytes, fed in 64 KiB pieces like a socket's.
///
/// These are the ceilings the issue asks PUT figures to be read against: one stream can go no
/// faster than the slower of its two threads, and no number of streams can push more bytes through
/// two cores than twice the rate of doing all of it on one.
struct IngestCeiling: Encodable {
    var chunkingAndSHA256MegabytesPerSecond: Double
    var md5MegabytesPerSecond: Double
    /// Both threads' work done on one core, one after the other.
    var allWorkOneCoreMegabytesPerSecond: Double
    /// One stream: its two threads run side by side, so the slower one bounds it.
    var oneStreamMegabytesPerSecond: Double
    /// Many streams on every core of the machine, if nothing else (client, kernel copies) ran.
    var allCoresMegabytesPerSecond: Double
    var cores: Int

    static func measure(megabytes: Int) -> IngestCeiling {
        let input = CeilingInput(megabytes: megabytes)
        let ingest = best(of: 3) {
            var chunker = StreamingChunker(.standard)
            let sha = StreamingDigest(.sha256)
            var chunks = 0
            input.feed { piece in
                chunker.append(piece) { chunk in
                    sha.update(chunk)
                    _ = sha.finalize()
                    chunks += 1
                }
            }
            chunker.finish { chunk in
                sha.update(chunk)
                _ = sha.finalize()
            }
            precondition(chunks > 0)
        }
        let md5 = best(of: 3) {
            let digest = StreamingDigest(.md5)
            input.feed { digest.update($0) }
            _ = digest.finalize()
        }
        let megabytes = Double(input.bytes.count) / 1e6
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return IngestCeiling(
            chunkingAndSHA256MegabytesPerSecond: megabytes / ingest,
            md5MegabytesPerSecond: megabytes / md5,
            allWorkOneCoreMegabytesPerSecond: megabytes / (ingest + md5),
            oneStreamMegabytesPerSecond: megabytes / max(ingest, md5),
            allCoresMegabytesPerSecond: Double(cores) * megabytes / (ingest + md5),
            cores: cores)
    }

    /// The fastest of a few runs, in seconds: the machine's other tenants only ever slow a run down.
    private static func best(of runs: Int, _ body: () -> Void) -> Double {
        var fastest = Double.infinity
        for _ in 0..<runs {
            let start = ContinuousClock.now
            body()
            fastest = min(fastest, (ContinuousClock.now - start).seconds)
        }
        return fastest
    }
}
