import DepotConfig
import DepotObjectBody
import DepotS3
import DepotSigV4
import DepotVault

/// Every fuzz target; the raw value is the FUZZ_TARGET name and the Fuzz/Corpus/<name>/ folder.
enum FuzzTarget: String, CaseIterable {
    /// `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`
    case sigv4Authorization = "sigv4-authorization"
    /// The query of a presigned SigV4 URL (`X-Amz-Credential=…&X-Amz-Signature=…`).
    case sigv4Presigned = "sigv4-presigned"
    /// SigV2: `Authorization: AWS key:sig` with the Date header, or the presigned `AWSAccessKeyId=…` query.
    /// Input: first line the Authorization value, second line the Date, third line the raw query.
    case sigv2 = "sigv2"
    /// Dates: RFC 7231 HTTP dates (Date, If-Modified-Since) and ISO 8601 basic (X-Amz-Date).
    case dates = "dates"
    /// Percent decoding of paths and query components, and query splitting.
    case percentDecoding = "percent-decoding"
    /// An `aws-chunked` request body (streaming uploads). The first byte sets the size of the pieces
    /// the body is fed in, so chunk boundaries fall anywhere.
    case awsChunked = "aws-chunked"
    /// S3 XML request bodies (CompleteMultipartUpload, Delete, tagging…).
    case xml = "xml"
    /// The `Range` header. The first 8 bytes are the object size (little-endian), the rest the header.
    case range = "range"
    /// tus `Upload-Metadata` (comma-separated `key base64(value)` pairs).
    case tusMetadata = "tus-metadata"
    /// A signed `aws-chunked` body: the chain of chunk signatures (and the trailer signature). The
    /// input is the payload and how to frame it; the body is signed, maybe corrupted in one byte, and
    /// decoded: see SignedChunksTarget.
    case awsChunkedSigned = "aws-chunked-signed"
    /// tus `Upload-Length`, `Upload-Defer-Length`, `Upload-Offset` and a PATCH's `Content-Length`: see TusHeadersTarget.
    case tusHeaders = "tus-headers"
    /// The browser form (`multipart/form-data`) reader of S3 POST Object, fed whole and in pieces: see FormTargets.
    case formData = "form-data"
    /// The browser form's Base64 JSON policy document and its conditions over the form fields: see FormTargets.
    case postPolicy = "post-policy"
    /// The configuration file (`depot.yaml`), read at start and on every reload.
    case configYAML = "config-yaml"
    /// The admin API's JSON documents: PUT /admin/tiers/…, /admin/policies/…, /admin/accounts/….
    case adminDocuments = "admin-documents"

    func run(_ input: [UInt8]) {
        // Network text arrives as bytes; invalid UTF-8 is repaired the way the HTTP layer's String(decoding:) does.
        let text = String(decoding: input, as: UTF8.self)
        switch self {
        case .sigv4Authorization:
            if let header = try? AuthorizationHeader(parsing: text) {
                // A parsed header must survive being read back: these feed the canonical request.
                _ = header.signedHeaders.joined(separator: ";")
                _ = header.scope
            }
        case .sigv4Presigned:
            _ = PresignedQuery.isPresigned(rawQuery: text)
            _ = try? PresignedQuery(parsing: text)
        case .sigv2:
            let lines = text.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            var headers: [SigV4Header] = []
            if lines.count > 0 { headers.append((name: "Authorization", value: lines[0])) }
            if lines.count > 1 { headers.append((name: "Date", value: lines[1])) }
            let request = SigV4Request(
                method: "GET", rawPath: "/bucket/key", rawQuery: lines.count > 2 ? lines[2] : "", headers: headers)
            let verifier = SigV2Verifier()
            if SigV2Verifier.isSigV2(request), let claim = try? verifier.claim(of: request, virtualHostBucket: nil) {
                try? verifier.verify(claim, secretKey: "fuzz-secret", now: 1_700_000_000)
            }
        case .dates:
            if let seconds = HTTPDate.parse(text) { _ = HTTPDate.format(seconds) }
            if let date = AmzDate(iso8601Basic: text) { _ = date.description }
            _ = AmzDate(httpDate: text)
        case .percentDecoding:
            _ = SigV4Encoding.decode(text, plusAsSpace: true)
            _ = SigV4Encoding.decodeUTF8(text, plusAsSpace: false)
            _ = SigV4Encoding.decodeQueryComponent(text)
            _ = SigV4Encoding.encodePath(text)
        case .awsChunked:
            _ = S3ParserFuzzEntryPoints.decodeAwsChunked(Array(input.dropFirst()), pieceSize: Int(input.first ?? 0) + 1)
        case .xml:
            _ = S3ParserFuzzEntryPoints.parseXML(input)
        case .range:
            let size = input.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let header = String(decoding: input.dropFirst(8), as: UTF8.self)
            if case .partial(let range) = ByteRangeRequest(header: header, size: size) {
                // A range Depot sends must lie inside the object and not be empty.
                precondition(!range.isEmpty && range.upperBound <= size, "range \(range) of an object of \(size) bytes")
                _ = ByteRangeRequest.contentRange(range, size: size)
            }
        case .tusMetadata:
            _ = RecordingName.uploadMetadata(text)
        case .awsChunkedSigned:
            SignedChunksTarget.run(input)
        case .tusHeaders:
            TusHeadersTarget.run(text)
        case .formData:
            FormTargets.runFormData(input)
        case .postPolicy:
            FormTargets.runPostPolicy(input)
        case .configYAML:
            _ = try? DepotConfiguration.parse(yaml: text)
        case .adminDocuments:
            // The first byte picks the document kind, so one corpus covers all three.
            let document = String(decoding: input.dropFirst(), as: UTF8.self)
            switch input.first.map({ $0 % 3 }) {
            case 0: _ = try? DepotConfiguration.parseTierDocument(document)
            case 1: _ = try? DepotConfiguration.parsePolicyDocument(document, tiers: [])
            default: _ = try? DepotConfiguration.parseAccountDocument(document)
            }
        }
    }
}
