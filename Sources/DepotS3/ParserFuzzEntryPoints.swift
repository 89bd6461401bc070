/// Public doors to DepotS3's internal body parsers for the libFuzzer targets in Fuzz/, which build in
/// release without `-enable-testing` and so cannot `@testable import` this module.
public enum S3ParserFuzzEntryPoints {
    /// Decodes an unsigned `aws-chunked` body handed over in pieces of `pieceSize` bytes (as the HTTP
    /// layer streams it), so chunk boundaries fall anywhere. Returns the decoded byte count, or nil when
    /// the body is refused (the proper answer to bad input).
    public static func decodeAwsChunked(_ body: [UInt8], pieceSize: Int) -> UInt64? {
        var decoder = AwsChunkedDecoder(chain: nil, signedTrailer: false)
        var delivered: UInt64 = 0
        let step = max(1, pieceSize)
        do {
            try body.withUnsafeBytes { all in
                var start = 0
                while start < all.count {
                    let end = min(all.count, start + step)
                    try decoder.feed(UnsafeRawBufferPointer(rebasing: all[start..<end])) { delivered += UInt64($0.count) }
                    start = end
                }
            }
            try decoder.finish()
        } catch {
            return nil
        }
        // What reached the sink is what the decoder counted: the stored object's size depends on it.
        precondition(
            delivered == decoder.decodedCount, "aws-chunked: \(delivered) bytes delivered, \(decoder.decodedCount) counted")
        return delivered
    }

    /// Parses an S3 XML request body (CompleteMultipartUpload, Delete, tagging…); true when accepted.
    public static func parseXML(_ bytes: [UInt8]) -> Bool {
        (try? XMLElement.parse(bytes)) != nil
    }
}
