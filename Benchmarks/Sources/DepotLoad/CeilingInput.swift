/// The bytes the ceiling measurements (MD5Ceiling, IngestCeiling) hash: `megabytes` MiB of
/// pseudo-random data made once, read-only and shared by every thread, fed in 64 KiB pieces
/// like a socket's.
final class CeilingInput: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer

    init(megabytes: Int) {
        let count = megabytes << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in stride(from: 0, to: count, by: 8) {
            // xorshift64*: fast, and random enough that FastCDC cuts as it does on video.
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            buffer.storeBytes(of: state &* 0x2545_F491_4F6C_DD1D, toByteOffset: i, as: UInt64.self)
        }
        bytes = UnsafeRawBufferPointer(buffer)
    }

    deinit { bytes.deallocate() }

    /// Hands the whole input to `update` in 64 KiB pieces.
    func feed(_ update: (UnsafeRawBufferPointer) -> Void) {
        let piece = 64 << 10
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            update(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
            offset = end
        }
    }
}
