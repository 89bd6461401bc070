/// How an object's remote key (`prefix` + bucket + `/` + key) becomes a path under a filesystem
/// tier. S3 keys may hold segments a file system gives another meaning (`..` would climb out of
/// the tier's directory), so each `/`-separated segment is escaped, reversibly:
///
/// - `%` becomes `%25` and a NUL byte `%00` (first, so every `%` in a path starts an escape);
/// - a segment that is exactly `.` becomes `%2E`, exactly `..` becomes `%2E%2E`.
///
/// Percent-decoding each segment gives the key back. Keys a file system still cannot hold are
/// refused as permanent errors (that copy is marked FAILED with the reason, the tier is not
/// blamed): an empty segment (`a//b`, a leading `/`, a folder marker ending in `/`) and a
/// segment longer than 255 bytes.
enum FilesystemKeyMapping {
    static let maxSegmentBytes = 255

    static func relativePath(_ remote: String) throws -> String {
        var segments: [String] = []
        for segment in remote.split(separator: "/", omittingEmptySubsequences: false) {
            guard !segment.isEmpty else {
                throw TierError("\(remote): a file system cannot hold an empty path segment", permanent: true)
            }
            var escaped = ""
            for scalar in segment.unicodeScalars {
                switch scalar {
                case "%": escaped += "%25"
                case "\0": escaped += "%00"
                default: escaped.unicodeScalars.append(scalar)
                }
            }
            if escaped == "." { escaped = "%2E" } else if escaped == ".." { escaped = "%2E%2E" }
            guard escaped.utf8.count <= maxSegmentBytes else {
                throw TierError(
                    "\(remote): a path segment is longer than \(maxSegmentBytes) bytes once escaped", permanent: true)
            }
            segments.append(escaped)
        }
        return segments.joined(separator: "/")
    }

    /// The remote key a relative path stands for (the inverse of `relativePath`).
    static func remoteKey(_ relativePath: String) -> String {
        relativePath.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            var bytes: [UInt8] = []
            var utf8 = Array(segment.utf8)[...]
            while let byte = utf8.popFirst() {
                if byte == UInt8(ascii: "%"), utf8.count >= 2,
                    let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
                {
                    bytes.append(value)
                    utf8 = utf8.dropFirst(2)
                } else {
                    bytes.append(byte)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }.joined(separator: "/")
    }
}
