import DepotHashing
import Testing

/// RS256 against OpenSSL's command line: RSASSA-PKCS1-v1_5 is deterministic, so the signature
/// below (made with `openssl dgst -sha256 -sign` and this throw-away test key) must come out
/// exactly.
@Suite struct RSASignatureTests {
    static let key = """
        -----BEGIN PRIVATE KEY-----
        MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAMbX8EtehF8hp4XO
        5T/csGlIE3UAOblTPY9lqOQBTGR8By7LXli+83e/Ehskut9a6hdclN3ylryrTNBC
        NQ5uVJ184JJ14pobVWmdyH/nk3nmXmUrTWv11hqdnFI4jU6o35LqSIODbceb1Kqq
        y1IXPr3lXB4fTTl8x+kFgvLa31cFAgMBAAECgYEAnNcEvZ4+0P6tsXihEL9VEqX8
        WuQjo89Jlkr8bWOsyvGdhMZ6k4uCZOh8MpbFI5oFXQn0jiBjz0tamkYurURPTkgL
        wigWRkOJTvRrkWIvXOWk9zQTw3qNPr0C8CarcCrPIk7zfYFGExa8Ku+SZa07mSaO
        MFIkCQ7A1TxNCnxV7l0CQQD31xSdPSsJa9NomWtZCGsXDogM7lzhow1VsVfkysdP
        nOaUCOgV/do6Y5m+Q/6noz8wR5SrR8gaJ929WLp9u4BPAkEAzWPj3+d4o4cIg3Kc
        bL6x+ogQOKsUQekgkumSEWuzWUihV6QcsuzbhgXspkdEOWr12rTLYHU18ZRISe54
        t6BqawJAezjsfuESrLR3f+IHhVSyKdyHuCYq9+RhlOF/mblYLzULTz6+ZXC5N56d
        qgOUcTSxDggI2r/ttVNs499hmXHH8QJAAoxDrmpjr7ukGmVYlWzELnRzpxBQPwUS
        V2A4ZKjuX6QsBDdP99RCYOY/6kwmB4RRKnZls3ugwK9zOh+QNc7yowJAAZBZcX5K
        QcD27e1B4dHg90nzQKpBUAIprC49SNRgiRy8rGM9g9QcFLeS+mxMYDGK4hjoVLFr
        xwMkqe9gWhkEzw==
        -----END PRIVATE KEY-----
        """

    @Test func matchesOpenSSLsCommandLine() throws {
        let signature = try RSASignature.sha256(pemPrivateKey: Self.key, message: Array("header.payload".utf8))
        #expect(Hex.encode(signature) == "45ebe8962ea086fb4654c33cc110edac61a1dc40490403e4fa28bc7c2a7984a99c10d94826200e3038c4d2b0b80cac49744286e5848087468eaa8efd8ead72bca0749821a1625bb246ced96dbdf4b7bc84359de60a213d202ee449841994b5ff5d254b42f73c72203e9999eaa47069781e4bb74b1f8222cb14fa1af9e261e377")
    }

    @Test func aBadKeyIsAnError() {
        #expect(throws: RSASignature.Failure.self) {
            try RSASignature.sha256(pemPrivateKey: "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----", message: [1])
        }
    }
}
