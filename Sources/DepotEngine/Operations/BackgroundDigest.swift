import DepotHashing
import Dispatch

/// A digest computed on a thread of its own while the caller goes on: an upload's MD5 (its
/// ETag) runs beside the chunking and SHA-256 of the same bytes, so one stream is bounded by the
/// slower of the two instead of their sum. At most `window` pieces wait, which bounds the memory
/// and holds the writer back if the digest falls behind.
final class BackgroundDigest: @unchecked Sendable {
    private let digest: StreamingDigest
    private let queue = DispatchQueue(label: "depot.digest")
    private let slots: DispatchSemaphore
    private let pending = DispatchGroup()

    init(_ algorithm: DigestAlgorithm, window: Int = 32) {
        digest = StreamingDigest(algorithm)
        slots = DispatchSemaphore(value: window)
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        let copy = [UInt8](bytes)
        slots.wait()
        // The digest is only ever touched on `queue`, one piece after another.
        queue.async(group: pending) { [self] in
            copy.withUnsafeBytes { digest.update($0) }
            slots.signal()
        }
    }

    func finalize() -> [UInt8] {
        pending.wait()
        return queue.sync { [self] in digest.finalize() }
    }
}
