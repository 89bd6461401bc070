import DepotHashing
import Dispatch

/// A digest computed on a thread of its own while the caller goes on: an upload's MD5 (its
/// ETag) runs beside the chunking and SHA-256 of the same bytes, so one stream is bounded by the
/// slower of the two instead of their sum. At most `window` bytes wait (counted in 64 KiB units,
/// whatever size the pieces are), which bounds each upload's memory and holds the writer back if
/// the digest falls behind.
final class BackgroundDigest: @unchecked Sendable {
    private static let unit = 64 << 10
    private let digest: StreamingDigest
    private let queue = DispatchQueue(label: "depot.digest")
    private let units: DispatchSemaphore
    private let windowUnits: Int
    private let pending = DispatchGroup()

    init(_ algorithm: DigestAlgorithm, window: Int = 2 << 20) {
        digest = StreamingDigest(algorithm)
        windowUnits = max(1, window / Self.unit)
        units = DispatchSemaphore(value: windowUnits)
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        let copy = [UInt8](bytes)
        // A piece larger than the whole window takes all of it rather than waiting forever.
        let needed = min(windowUnits, (bytes.count + Self.unit - 1) / Self.unit)
        for _ in 0..<needed { units.wait() }
        // The digest is only ever touched on `queue`, one piece after another.
        queue.async(group: pending) { [self] in
            copy.withUnsafeBytes { digest.update($0) }
            for _ in 0..<needed { units.signal() }
        }
    }

    func finalize() -> [UInt8] {
        pending.wait()
        return queue.sync { [self] in digest.finalize() }
    }
}
