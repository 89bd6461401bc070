/// The S3 operation a request asks for, by the names AWS uses, for metrics and logs. Decided
/// from the method, whether a bucket and key are named, and the query's subresources, the
/// same way the router does, without parsing anything further.
public enum S3Operation {
    public static func name(
        method: String, path: String, query: String, copySource: Bool = false, domain: String = "", host: String = ""
    ) -> String {
        var segments = path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true)
        if !domain.isEmpty, host.hasSuffix("." + domain) { segments.insert("bucket", at: 0) }  // virtual host style
        let hasBucket = !segments.isEmpty
        let hasKey = segments.count > 1
        let names = Set(query.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? "" })
        func has(_ name: String) -> Bool { names.contains(name) }
        switch (method, hasBucket, hasKey) {
        case ("GET", false, _): return "ListBuckets"
        case ("PUT", true, false): return has("tagging") ? "PutBucketTagging" : "CreateBucket"
        case ("DELETE", true, false): return has("tagging") ? "DeleteBucketTagging" : "DeleteBucket"
        case ("HEAD", true, false): return "HeadBucket"
        case ("GET", true, false):
            if has("uploads") { return "ListMultipartUploads" }
            if has("versions") { return "ListObjectVersions" }
            if has("location") { return "GetBucketLocation" }
            if has("tagging") { return "GetBucketTagging" }
            return has("list-type") ? "ListObjectsV2" : "ListObjects"
        case ("POST", true, false): return has("delete") ? "DeleteObjects" : "PostObject"
        case ("PUT", true, true):
            if has("tagging") { return "PutObjectTagging" }
            if has("partNumber") { return copySource ? "UploadPartCopy" : "UploadPart" }
            return copySource ? "CopyObject" : "PutObject"
        case ("GET", true, true):
            if has("tagging") { return "GetObjectTagging" }
            if has("uploadId") { return "ListParts" }
            return "GetObject"
        case ("HEAD", true, true): return "HeadObject"
        case ("DELETE", true, true):
            if has("uploadId") { return "AbortMultipartUpload" }
            return has("tagging") ? "DeleteObjectTagging" : "DeleteObject"
        case ("POST", true, true):
            if has("uploads") { return "CreateMultipartUpload" }
            if has("uploadId") { return "CompleteMultipartUpload" }
            return "PostObject"
        default: return "Unknown"
        }
    }
}
