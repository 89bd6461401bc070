import DepotHashing
import Testing

/// AES-256-GCM against the known-answer vectors of "The Galois/Counter Mode of Operation"
/// (McGrew & Viega, the test cases NIST's GCM validation uses), and its tamper detection.
struct AEADTests {
    static func bytes(_ hex: String) -> [UInt8] { Hex.decode(hex)! }

    // Test Case 16: 256-bit key, 96-bit IV, 60-byte plaintext, 20 bytes of associated data.
    static let key = bytes("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    static let nonce = bytes("cafebabefacedbaddecaf888")
    static let plaintext = bytes(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
    )
    static let associatedData = bytes("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    static let ciphertext =
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
    static let tag = "76fc6ece0f4e1768cddf8853bb2d551b"

    @Test func testCase16Encrypts() throws {
        let (c, t) = try AES256GCM.encrypt(Self.plaintext, key: Self.key, nonce: Self.nonce, associatedData: Self.associatedData)
        #expect(Hex.encode(c) == Self.ciphertext)
        #expect(Hex.encode(t) == Self.tag)
    }

    @Test func testCase16Decrypts() throws {
        let p = try AES256GCM.decrypt(
            Self.bytes(Self.ciphertext), tag: Self.bytes(Self.tag), key: Self.key, nonce: Self.nonce,
            associatedData: Self.associatedData)
        #expect(p == Self.plaintext)
    }

    // Test Case 14: zero key, zero IV, one zero block, no associated data.
    @Test func testCase14() throws {
        let (c, t) = try AES256GCM.encrypt(
            [UInt8](repeating: 0, count: 16), key: [UInt8](repeating: 0, count: 32), nonce: [UInt8](repeating: 0, count: 12))
        #expect(Hex.encode(c) == "cea7403d4d606b6e074ec5d3baf39d18")
        #expect(Hex.encode(t) == "d0d1c8a799996bf0265b98b5d48ab919")
    }

    @Test func sealOpenRoundTripWithFreshNonces() throws {
        let secret = Array("a secret key".utf8)
        let one = try AES256GCM.seal(secret, key: Self.key, associatedData: Array("AKID".utf8))
        let two = try AES256GCM.seal(secret, key: Self.key, associatedData: Array("AKID".utf8))
        #expect(one != two)
        #expect(one.count == 12 + secret.count + 16)
        #expect(try AES256GCM.open(one, key: Self.key, associatedData: Array("AKID".utf8)) == secret)
        #expect(try AES256GCM.open(two, key: Self.key, associatedData: Array("AKID".utf8)) == secret)
    }

    @Test func everyChangedByteIsDetected() throws {
        let box = try AES256GCM.seal(Array("secret".utf8), key: Self.key, associatedData: Array("AKID".utf8))
        for index in box.indices {
            var changed = box
            changed[index] ^= 0x01
            #expect(throws: AES256GCM.Failure.authenticationFailed) {
                try AES256GCM.open(changed, key: Self.key, associatedData: Array("AKID".utf8))
            }
        }
    }

    @Test func wrongKeyOrAssociatedDataOrLengthFails() throws {
        let box = try AES256GCM.seal(Array("secret".utf8), key: Self.key, associatedData: Array("AKID".utf8))
        var otherKey = Self.key
        otherKey[0] ^= 0x80
        #expect(throws: AES256GCM.Failure.authenticationFailed) {
            try AES256GCM.open(box, key: otherKey, associatedData: Array("AKID".utf8))
        }
        #expect(throws: AES256GCM.Failure.authenticationFailed) {
            try AES256GCM.open(box, key: Self.key, associatedData: Array("OTHER".utf8))
        }
        #expect(throws: AES256GCM.Failure.truncated) {
            try AES256GCM.open(Array(box.prefix(27)), key: Self.key)
        }
        #expect(throws: AES256GCM.Failure.badKeyOrNonce) {
            try AES256GCM.seal([1], key: Array(Self.key.prefix(16)))
        }
    }
}
