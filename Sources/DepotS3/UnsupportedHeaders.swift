import HTTPTypes

/// Request headers whose meaning Depot does not carry out. Accepting and ignoring them would be
/// a lie with consequences: an object asked to be encrypted would be stored in plaintext and
/// served without its key; one asked to be locked could be deleted. So they are refused with 501
/// NotImplemented naming the header, in one place, before the handler runs.
enum UnsupportedHeaders {
    /// Canned ACLs that say nothing beyond "the owner has full control" (all a part may name).
    static let harmlessCannedACLs: Set<String> = ["private", "bucket-owner-full-control"]

    /// Server-side encryption with keys Depot would manage (SSE-S3, SSE-KMS).
    static let serverSideEncryption = [
        "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-server-side-encryption-context", "x-amz-server-side-encryption-bucket-key-enabled",
    ]
    /// Server-side encryption with a key the client sends (SSE-C), on the object itself.
    static let customerKey = [
        "x-amz-server-side-encryption-customer-algorithm", "x-amz-server-side-encryption-customer-key",
        "x-amz-server-side-encryption-customer-key-md5",
    ]
    /// The object writes that carry out SSE-C (GET and HEAD do too; CopyObject and UploadPartCopy
    /// read an SSE-C source with x-amz-copy-source-server-side-encryption-customer-*).
    static let customerKeyEndpoints: [S3Endpoint] = [
        .putObject, .createMultipartUpload, .uploadPart, .uploadPartCopy, .copyObject, .postObject,
    ]
    static let objectLock = ["x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold"]

    /// Throws 501 when `endpoint` carries a header it cannot honour. (`x-amz-storage-class` is
    /// carried out: StorageClass/StorageClassRequest.swift.)
    static func check(_ r: S3Request, for endpoint: S3Endpoint) throws {
        try check(endpoint) {
            r.header($0)
        } names: {
            r.headers.lazy.map(\.name.canonicalName)
        }
    }

    /// The same policy for a browser form's fields (PostObject): field names are the header names.
    static func check(formFields: [(String, String)]) throws {
        // The form's `acl` field is the x-amz-acl header of a PUT.
        let fields = formFields.map { field in
            let name = field.0.lowercased()
            return (name == "acl" ? "x-amz-acl" : name, field.1)
        }
        try check(.postObject) { name in
            fields.first { $0.0 == name }?.1
        } names: {
            fields.lazy.map(\.0)
        }
    }

    private static func check<Names: Sequence<String>>(
        _ endpoint: S3Endpoint, value: (String) -> String?, names: () -> Names
    ) throws {
        func refuse(_ list: [String]) throws {
            if let name = list.first(where: { value($0) != nil }) {
                throw S3Error.notImplemented("header \(name) (Depot does not implement it)")
            }
        }
        switch endpoint {
        case _ where endpoint.writesObject:
            // Object Lock headers are carried out on PUT, copy and CreateMultipartUpload (ObjectLock.swift).
            let lockCarriedOut = endpoint == .putObject || endpoint == .copyObject || endpoint == .createMultipartUpload
            // SSE-S3 and SSE-KMS are carried out where an object is created (ServerSideEncryption.swift,
            // a POST form's fields too); a part follows its upload.
            let encryptionCarriedOut = lockCarriedOut || endpoint == .postObject
            if endpoint == .uploadPart || endpoint == .uploadPartCopy,
                let name = serverSideEncryption.first(where: { value($0) != nil })
            {
                throw S3Error.invalidArgument(
                    "\(name) is not valid on a part: the upload's encryption is given at CreateMultipartUpload")
            }
            // SSE-C is carried out on PUT, copy and multipart uploads (CustomerKeyHeaders.swift).
            let customerKeyCarriedOut = customerKeyEndpoints.contains(endpoint)
            try refuse(
                (encryptionCarriedOut ? ["x-amz-server-side-encryption-context"] : serverSideEncryption)
                    + (customerKeyCarriedOut ? [] : customerKey) + (lockCarriedOut ? [] : objectLock))
            // ACLs of new objects and buckets are kept (ACL/ACLSettings.swift); a part has none of its own.
            if endpoint == .uploadPart || endpoint == .uploadPartCopy { try checkACL(value: value, names: names) }
        default:
            break
        }
    }

    /// Grants and canned ACLs other than "only the owner" on a part, which has no ACL of its own.
    private static func checkACL<Names: Sequence<String>>(value: (String) -> String?, names: () -> Names) throws {
        if let grant = names().first(where: { $0.hasPrefix("x-amz-grant-") }) {
            throw S3Error.notImplemented("header \(grant) on a part (the upload's ACL is given at its creation)")
        }
        if let acl = value("x-amz-acl"), !harmlessCannedACLs.contains(acl.lowercased()) {
            throw S3Error.notImplemented("header x-amz-acl: \(acl) on a part (the upload's ACL is given at its creation)")
        }
    }
}
