import NIOHTTP1

/// Recognises a request body the client stopped sending before its `Content-Length` was reached
/// (it closed the connection): the HTTP parser reports that as an unexpected end of stream while
/// the handler is reading the body. That is the client's fault, so every front door answers it
/// with its own 400 (S3's `IncompleteBody`) instead of a 500, and logs how many bytes came.
public enum CutOffBody {
    public static func isCutOff(_ error: Error) -> Bool {
        (error as? HTTPParserError) == .invalidEOFState
    }

    /// The log line every front door writes for a cut-off body.
    /// `declared` is nil for a chunked body, whose length was never announced.
    public static func describe(received: UInt64, declared: UInt64?) -> String {
        let got = declared.map { "received \(received) of \($0) bytes" } ?? "received \(received) bytes of a chunked body"
        return "the client closed the connection mid-body: \(got); nothing was stored"
    }
}
