import DepotHashing
import TestRandomness
import Testing

/// Known-answer vectors: FIPS 180-2 (SHA-256, SHA-1), RFC 1321 (MD5), RFC 4231 (HMAC-SHA256).
struct DigestTests {
    @Test func sha256KnownAnswers() {
        #expect(
            Hex.encode(DigestAlgorithm.sha256.hash(Array("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            Hex.encode(DigestAlgorithm.sha256.hash([UInt8]()))
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            Hex.encode(DigestAlgorithm.sha256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// The stack one-shot against OpenSSL's EVP digest, across every tail length around the padding's
    /// one-or-two-block boundary (55/56 bytes past a block) and a few longer inputs.
    @Test func sha256IntoBufferMatchesEVP() {
        var generator = SplitMix64(seed: 41)
        let source = (0..<4_200).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        for length in Array(0...200) + [255, 256, 257, 1_000, 4_096, 4_200] {
            let message = Array(source.prefix(length))
            let evp = StreamingDigest(.sha256)
            evp.update(message)
            var digest = [UInt8](repeating: 0xee, count: 33)
            message.withUnsafeBytes { bytes in
                digest.withUnsafeMutableBytes { DigestAlgorithm.sha256(bytes, into: $0) }
            }
            #expect(Array(digest.prefix(32)) == evp.finalize(), "length \(length)")
            #expect(digest[32] == 0xee, "writes 32 bytes only")
            #expect(DigestAlgorithm.sha256.hash(message).count == 32)
        }
    }

    @Test func sha256OfOneMillionAIncremental() {
        let digest = StreamingDigest(.sha256)
        let block = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { block.withUnsafeBytes { digest.update($0) } }
        #expect(Hex.encode(digest.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func md5KnownAnswers() {
        #expect(Hex.encode(DigestAlgorithm.md5.hash([UInt8]())) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(Hex.encode(DigestAlgorithm.md5.hash(Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(
            Hex.encode(
                DigestAlgorithm.md5.hash(
                    Array("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8)))
                == "57edf4a22be3c955ac49da2e2107b67a")
    }

    @Test func sha1KnownAnswer() {
        #expect(Hex.encode(DigestAlgorithm.sha1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test func finalizeResetsForReuse() {
        let digest = StreamingDigest(.md5)
        digest.update(Array("abc".utf8))
        _ = digest.finalize()
        digest.update(Array("abc".utf8))
        #expect(Hex.encode(digest.finalize()) == "900150983cd24fb0d6963f7d28e17f72")
    }

    @Test func hmacSHA256RFC4231() {
        // Case 1
        let key1 = [UInt8](repeating: 0x0b, count: 20)
        #expect(
            Hex.encode(HMAC.sha256(key: key1, message: "Hi There"))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        // Case 2
        #expect(
            Hex.encode(HMAC.sha256(key: Array("Jefe".utf8), message: "what do ya want for nothing?"))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // Case 6: a key longer than the block size
        #expect(
            Hex.encode(
                HMAC.sha256(
                    key: [UInt8](repeating: 0xaa, count: 131), message: "Test Using Larger Than Block-Size Key - Hash Key First"))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test func constantTimeComparison() {
        #expect(constantTimeEquals("secret", "secret"))
        #expect(!constantTimeEquals("secret", "secreT"))
        #expect(!constantTimeEquals("secret", "secret1"))
        #expect(constantTimeEquals([UInt8](), []))
    }

    @Test func randomBytesDiffer() {
        #expect(secureRandomBytes(16) != secureRandomBytes(16))
        #expect(secureRandomBytes(33).count == 33)
    }
}
