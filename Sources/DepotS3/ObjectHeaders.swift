import DepotEngine
import DepotHashing
import DepotSigV4
import HTTPTypes

/// The standard headers S3 stores with an object and returns on GET and HEAD.
let storedSystemHeaders = ["content-encoding", "content-disposition", "content-language", "cache-control", "expires"]

/// Metadata from a PUT's headers: content type, standard headers, `x-amz-meta-*`, tags.
func objectMetadata(from request: S3Request, owner: String) throws -> ObjectMetadata {
    var system: [(String, String)] = []
    var user: [(String, String)] = []
    var userBytes = 0
    for field in request.headers {
        let name = field.name.canonicalName
        if name.hasPrefix("x-amz-meta-") {
            let metaName = String(name.dropFirst("x-amz-meta-".count))
            let value = MetadataEncoding.storedValue(of: field)
            user.append((metaName, value))
            userBytes += metaName.utf8.count + value.utf8.count
        } else if storedSystemHeaders.contains(name) {
            var value = field.value
            if name == "content-encoding" {
                // aws-chunked is transfer framing, not a property of the object; the rest keeps its text
                // exactly (`deflate, gzip` stays so).
                let codings = value.split(separator: ",").map { $0.trimmedSpaces() }
                if codings.contains(where: { $0.lowercased() == "aws-chunked" }) {
                    value = codings.filter { $0.lowercased() != "aws-chunked" }.joined(separator: ", ")
                }
                if value.isEmpty { continue }
            }
            system.append((name, value))
        }
    }
    guard userBytes <= 2048 else {
        throw S3Error("MetadataTooLarge", .badRequest, "Your metadata headers exceed the maximum allowed metadata size.")
    }
    // Object Lock asked for, carried to the commit (ObjectLock.swift).
    system += try S3Service.objectLockRequest(request, now: Engine.now())
    var tags: [(String, String)] = []
    if let tagging = request.header("x-amz-tagging") {
        tags = try parseTagQuery(tagging)
    }
    return ObjectMetadata(
        owner: owner, contentType: request.headers[.contentType] ?? "binary/octet-stream", systemMetadata: system,
        userMetadata: user.sorted { $0.0 < $1.0 }, tags: tags)
}

/// `x-amz-tagging: k1=v1&k2=v2` (URL-encoded), with S3's limits.
func parseTagQuery(_ text: String) throws -> [(String, String)] {
    var tags: [(String, String)] = []
    for pair in text.split(separator: "&") {
        let eq = pair.firstIndex(of: "=")
        guard let k = SigV4Encoding.decodeUTF8(eq.map { pair[..<$0] } ?? pair[...], plusAsSpace: true),
            let v = eq.map({ SigV4Encoding.decodeUTF8(pair[pair.index(after: $0)...], plusAsSpace: true) }) ?? ""
        else { throw S3Error.invalidArgument("The tag header is not valid URL encoding.") }
        guard (1...128).contains(k.count), v.count <= 256 else {
            throw S3Error("InvalidTag", .badRequest, "The tag key or value is too long.")
        }
        guard !tags.contains(where: { $0.0 == k }) else {
            throw S3Error("InvalidTag", .badRequest, "Cannot provide multiple tags with the same key.")
        }
        tags.append((k, v))
    }
    guard tags.count <= 10 else { throw S3Error("BadRequest", .badRequest, "Object tags cannot be greater than 10") }
    return tags
}

/// The flexible checksums a request declares in its headers, to verify while the body streams.
struct DeclaredChecksums {
    var expected: [(ChecksumAlgorithm, String)] = []
    var running: [StreamingChecksum] = []

    /// A checksum announced in `x-amz-trailer`, whose value arrives after the body.
    var trailing: (ChecksumAlgorithm, StreamingChecksum)?

    init(_ request: S3Request) throws {
        if let trailer = request.header("x-amz-trailer")?.lowercased().trimmedSpaces() {
            guard let algorithm = ChecksumAlgorithm.allCases.first(where: { $0.headerName == trailer }) else {
                throw S3Error.invalidRequest("The value of x-amz-trailer is not a supported checksum header.")
            }
            trailing = (algorithm, StreamingChecksum(algorithm))
        }
        for algorithm in ChecksumAlgorithm.allCases {
            if let value = request.header(algorithm.headerName) {
                guard let raw = Base64.decode(value), raw.count == algorithm.digestByteCount else {
                    throw S3Error.invalidRequest("Value for \(algorithm.headerName) header is invalid.")
                }
                expected.append((algorithm, value))
                running.append(StreamingChecksum(algorithm))
            }
        }
        guard expected.count <= 1 else {
            throw S3Error.invalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
        }
        if let declared = request.header("x-amz-sdk-checksum-algorithm"), ChecksumAlgorithm(headerValue: declared) == nil {
            throw S3Error.invalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid.")
        }
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        for checksum in running { checksum.update(bytes) }
        trailing?.1.update(bytes)
    }

    /// Moves the trailing checksum's value, read from the body's trailer, into the expected set.
    mutating func acceptTrailers(_ trailers: [(name: String, value: String)]) throws {
        guard let (algorithm, checksum) = trailing else { return }
        guard let value = trailers.first(where: { $0.name == algorithm.headerName })?.value else {
            throw S3Error.invalidRequest("The trailer \(algorithm.headerName) announced in x-amz-trailer is missing.")
        }
        guard let raw = Base64.decode(value), raw.count == algorithm.digestByteCount else {
            throw S3Error.invalidRequest("Value for \(algorithm.headerName) trailing header is invalid.")
        }
        expected.append((algorithm, value))
        running.append(checksum)
        trailing = nil
    }

    /// Verifies and returns the values to store.
    func verify() throws -> [(String, String)] {
        var out: [(String, String)] = []
        for (i, (algorithm, value)) in expected.enumerated() {
            let actual = Base64.encode(running[i].finalize())
            guard actual == value else { throw S3Error.badDigest("\(algorithm.rawValue) checksum") }
            out.append((algorithm.rawValue, value))
        }
        return out
    }
}
