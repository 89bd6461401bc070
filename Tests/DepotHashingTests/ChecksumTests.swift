import DepotHashing
import TestRandomness
import Testing

/// The standard check value of each CRC is its checksum of the ASCII bytes "123456789".
struct ChecksumTests {
    let check = Array("123456789".utf8)

    @Test func crc32CheckValue() {
        var c = CRC32()
        check.withUnsafeBytes { c.update($0) }
        #expect(c.value == 0xCBF4_3926)
    }

    @Test func crc32cCheckValue() {
        var c = CRC32C()
        c.update(check)
        #expect(c.value == 0xE306_9283)
    }

    @Test func crc64nvmeCheckValue() {
        var c = CRC64NVME()
        check.withUnsafeBytes { c.update($0) }
        #expect(c.value == 0xAE8B_1486_0A79_9888)
    }

    @Test func incrementalEqualsOneShotOnLargeUnalignedInput() {
        var generator = SplitMix64(seed: 7)
        let data = (0..<300_001).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        var whole = CRC32C()
        var pieces = CRC32C()
        data.withUnsafeBytes { buffer in
            whole.update(buffer)
            var offset = 0
            for size in [1, 7, 4096, 65_537, 3] + Array(repeating: 100_000, count: 3) where offset < buffer.count {
                let end = min(buffer.count, offset + size)
                pieces.update(UnsafeRawBufferPointer(rebasing: buffer[offset..<end]))
                offset = end
            }
        }
        #expect(whole.value == pieces.value)
    }

    @Test func combineEqualsChecksumOfConcatenation() {
        let a = Array("The quick brown fox ".utf8)
        let b = Array("jumps over the lazy dog".utf8)
        func crc32(_ bytes: [UInt8]) -> UInt32 {
            var c = CRC32()
            bytes.withUnsafeBytes { c.update($0) }
            return c.value
        }
        func crc32c(_ bytes: [UInt8]) -> UInt32 {
            var c = CRC32C()
            c.update(bytes)
            return c.value
        }
        func crc64(_ bytes: [UInt8]) -> UInt64 {
            var c = CRC64NVME()
            bytes.withUnsafeBytes { c.update($0) }
            return c.value
        }
        #expect(CRC32.combine(crc32(a), crc32(b), lengthOfB: UInt64(b.count)) == crc32(a + b))
        #expect(CRC32C.combine(crc32c(a), crc32c(b), lengthOfB: UInt64(b.count)) == crc32c(a + b))
        #expect(CRC64NVME.combine(crc64(a), crc64(b), lengthOfB: UInt64(b.count)) == crc64(a + b))
    }

    @Test func s3ChecksumHeaderNames() {
        #expect(ChecksumAlgorithm.crc64nvme.headerName == "x-amz-checksum-crc64nvme")
        #expect(ChecksumAlgorithm(headerValue: "crc32c") == .crc32c)
        let sha = StreamingChecksum(.sha256)
        sha.update(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(Base64.encode(sha.finalize()) == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    }
}

struct EncodingTests {
    @Test func hexRoundTrip() {
        #expect(Hex.encode([0x00, 0xab, 0xff]) == "00abff")
        #expect(Hex.decode("00ABff") == [0x00, 0xab, 0xff])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }

    @Test func base64RFC4648Vectors() {
        let vectors = [
            "": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy",
        ]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64.decode("Zm9v!") == nil)
        #expect(Base64.decode("Zg=") == nil)
        #expect(Base64.decode("Zg==Zg==") == nil)
    }
}

/// CRC32C runs three lanes side by side on inputs of 24 KiB and more (checksums.c); pieces under
/// that take the serial loop. Both must give the same checksum for every length and alignment.
struct CRC32CLaneTests {
    @Test func threeLanesEqualTheSerialLoop() {
        var generator = SplitMix64(seed: 11)
        let data = (0..<400_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        data.withUnsafeBytes { buffer in
            for (start, length) in [(0, 24_576), (0, 24_575), (1, 24_577), (3, 49_152 + 5), (7, 300_001), (0, 399_000)] {
                let slice = UnsafeRawBufferPointer(rebasing: buffer[start..<(start + length)])
                var whole = CRC32C()
                whole.update(slice)
                var serial = CRC32C()
                var offset = 0
                while offset < slice.count {
                    let end = min(slice.count, offset + 24_000)  // under three lanes: serial path
                    serial.update(UnsafeRawBufferPointer(rebasing: slice[offset..<end]))
                    offset = end
                }
                #expect(whole.value == serial.value, "length \(length) at offset \(start)")
            }
        }
    }
}

/// On CPUs with AVX-512 and VPCLMULQDQ, inputs of 256 bytes and more go through the carry-less
/// multiplication fold (checksums.c); the others through the crc32 instruction. Every length
/// 0...1100 (each step of the fold's 256-, 64- and 16-byte stages and its tail) at several
/// alignments, and long random runs, chained or whole, must equal a bit-by-bit reference.
struct CRC32CFoldTests {
    static func reference(_ bytes: UnsafeRawBufferPointer, _ start: UInt32 = 0) -> UInt32 {
        var crc = ~start
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test func foldEqualsTheBitwiseReference() {
        var generator = SplitMix64(seed: 23)
        let data = (0..<300_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        data.withUnsafeBytes { buffer in
            for length in 0...1100 {
                let start = length % 7
                let slice = UnsafeRawBufferPointer(rebasing: buffer[start..<(start + length)])
                var crc = CRC32C()
                crc.update(slice)
                #expect(crc.value == Self.reference(slice), "length \(length) at offset \(start)")
            }
            for (start, length) in [(0, 65_536), (5, 65_537 + 63), (1, 250_001), (3, 299_000)] {
                let slice = UnsafeRawBufferPointer(rebasing: buffer[start..<(start + length)])
                var whole = CRC32C()
                whole.update(slice)
                // Chained through pieces that cross the fold's 256-byte steps unevenly.
                var chained = CRC32C()
                var offset = 0
                while offset < slice.count {
                    let end = min(slice.count, offset + 1 + Int(generator.next() % 5000))
                    chained.update(UnsafeRawBufferPointer(rebasing: slice[offset..<end]))
                    offset = end
                }
                let expected = Self.reference(slice)
                #expect(whole.value == expected, "length \(length) at offset \(start)")
                #expect(chained.value == expected, "chained, length \(length) at offset \(start)")
            }
        }
    }
}
