/// The chunked-upload examples of the S3 API reference ("Signature Calculations for the
/// Authorization Header: Transferring Payload in Multiple Chunks", and the same with a signed
/// trailer): 65 KiB of `a` sent in chunks of 64 KiB, 1 KiB and 0 bytes by the reference's example
/// credentials on 2013-05-24. Kept once for every test target that checks against them.
public enum ChunkedUploadExample {
    public static let secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    /// 2013-05-24T00:00:00Z.
    public static let unixSeconds = 1_369_353_600

    /// Without a trailer: the seed (the request's own signature) and the three chunk signatures.
    public static let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    public static let chunkSignatures = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ]

    /// With a signed `x-amz-checksum-crc32c` trailer.
    public static let trailerSeed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
    public static let trailerChunkSignatures = [
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    ]
    public static let trailerSignature = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
}
