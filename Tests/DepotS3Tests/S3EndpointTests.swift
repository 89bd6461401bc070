import DepotConfig
import HTTPTypes
import Testing

@testable import DepotS3

/// The S3 endpoint table: every request is decided once, and what Depot does not implement is
/// refused by name instead of reaching a neighbouring operation.
struct S3EndpointTests {
    func endpoint(_ method: HTTPRequest.Method, _ target: String, copySource: Bool = false) -> S3Endpoint {
        var headers = HTTPFields()
        if copySource { headers[HTTPField.Name("x-amz-copy-source")!] = "/src/key" }
        let request = S3Request(method: method, target: target, authority: "127.0.0.1:9000", headers: headers, domain: "")!
        return S3Endpoint(request)
    }

    @Test func unhandledBucketSubresourcesNeverDeleteOrCreateTheBucket() {
        for name in ["website", "metrics"] {
            let delete = endpoint(.delete, "/b?\(name)")
            #expect(delete != .deleteBucket, "DELETE ?\(name)")
            guard case .notImplemented = delete else {
                Issue.record("DELETE ?\(name) is \(delete)")
                continue
            }
            let put = endpoint(.put, "/b?\(name)")
            #expect(put != .createBucket, "PUT ?\(name)")
            guard case .notImplemented = put else {
                Issue.record("PUT ?\(name) is \(put)")
                continue
            }
        }
        #expect(endpoint(.delete, "/b?website").operationName == "DeleteBucketWebsite")
        #expect(endpoint(.put, "/b?ownershipControls") == .putBucketOwnershipControls)
        #expect(endpoint(.delete, "/b?ownershipControls") == .deleteBucketOwnershipControls)
        #expect(endpoint(.get, "/b?ownershipControls") == .getBucketOwnershipControls)
        #expect(endpoint(.put, "/b?replication") == .putBucketReplication)
        #expect(endpoint(.get, "/b?replication") == .getBucketReplication)
        #expect(endpoint(.delete, "/b?replication") == .deleteBucketReplication)
    }

    @Test func unknownFlagsAreRefusedNotIgnored() {
        #expect(endpoint(.delete, "/b?someNewThing") == .unknownSubresource("someNewThing"))
        #expect(endpoint(.get, "/b?someNewThing") == .unknownSubresource("someNewThing"))
        #expect(endpoint(.put, "/b?someNewThing") == .unknownSubresource("someNewThing"))
        // A write does not guess about a parameter it does not know, even with a value.
        #expect(endpoint(.delete, "/b?foo=bar") == .unknownSubresource("foo"))
        // A read ignores it, as AWS does (browser cache busters).
        #expect(endpoint(.get, "/b/k?t=123") == .getObject)
        // An upload id named on a bucket (a lost key) must not reach DeleteBucket.
        #expect(endpoint(.delete, "/b?uploadId=abc") == .methodNotAllowed)
    }

    @Test func plainOperations() {
        #expect(endpoint(.get, "/") == .listBuckets)
        #expect(endpoint(.put, "/b") == .createBucket)
        #expect(endpoint(.delete, "/b") == .deleteBucket)
        #expect(endpoint(.head, "/b") == .headBucket)
        #expect(endpoint(.get, "/b") == .listObjects)
        #expect(endpoint(.get, "/b?list-type=2&prefix=a%2F&delimiter=%2F") == .listObjectsV2)
        #expect(endpoint(.get, "/b?x-id=ListObjects") == .listObjects)
        #expect(endpoint(.get, "/b?versions") == .listObjectVersions)
        #expect(endpoint(.get, "/b?uploads") == .listMultipartUploads)
        #expect(endpoint(.get, "/b?location") == .getBucketLocation)
        #expect(endpoint(.post, "/b?delete") == .deleteObjects)
        #expect(endpoint(.post, "/b") == .postObject)
        #expect(endpoint(.put, "/b/k") == .putObject)
        #expect(endpoint(.put, "/b/k?x-id=PutObject") == .putObject)
        #expect(endpoint(.get, "/b/k?partNumber=2&versionId=null&response-content-type=a") == .getObject)
        #expect(endpoint(.head, "/b/k") == .headObject)
        #expect(endpoint(.delete, "/b/k") == .deleteObject)
        #expect(endpoint(.options, "/b/k") == .preflight)
    }

    @Test func copiesAndMultipart() {
        #expect(endpoint(.put, "/b/k", copySource: true) == .copyObject)
        #expect(endpoint(.put, "/b/k?partNumber=1&uploadId=x", copySource: true) == .uploadPartCopy)
        #expect(endpoint(.put, "/b/k?partNumber=1&uploadId=x") == .uploadPart)
        #expect(endpoint(.put, "/b/k?partNumber=1&uploadId=x").operationName == "UploadPart")
        #expect(endpoint(.put, "/b/k?partNumber=1&uploadId=x", copySource: true).operationName == "UploadPartCopy")
        #expect(endpoint(.post, "/b/k?uploads") == .createMultipartUpload)
        #expect(endpoint(.post, "/b/k?uploadId=x") == .completeMultipartUpload)
        #expect(endpoint(.delete, "/b/k?uploadId=x") == .abortMultipartUpload)
        #expect(endpoint(.get, "/b/k?uploadId=x") == .listParts)
    }

    @Test func configurationsAndAcls() {
        #expect(endpoint(.get, "/b?policy") == .getBucketPolicy)
        #expect(endpoint(.put, "/b?policy") == .putBucketPolicy)
        #expect(endpoint(.delete, "/b?policy") == .deleteBucketPolicy)
        #expect(endpoint(.get, "/b?policyStatus") == .getBucketPolicyStatus)
        #expect(endpoint(.put, "/b?publicAccessBlock") == .putPublicAccessBlock)
        #expect(endpoint(.put, "/b?policy").requiredAction == nil)
        #expect(endpoint(.get, "/b?object-lock") == .getObjectLockConfiguration)
        #expect(endpoint(.get, "/b?versioning") == .getBucketVersioning)
        #expect(endpoint(.put, "/b?versioning") == .putBucketVersioning)
        #expect(endpoint(.put, "/b?versioning").requiredAction == .write)
        #expect(endpoint(.get, "/b?versions") == .listObjectVersions)
        // A versionId refines the plain operation and needs its permission.
        #expect(endpoint(.get, "/b/k?versionId=null") == .getObject)
        #expect(endpoint(.delete, "/b/k?versionId=0000000000000001").requiredAction == .delete)
        #expect(endpoint(.get, "/b?acl") == .getBucketAcl)
        #expect(endpoint(.put, "/b?acl") == .putBucketAcl)
        #expect(endpoint(.get, "/b/k?acl") == .getObjectAcl)
        #expect(endpoint(.get, "/b/k?attributes") == .getObjectAttributes)
        #expect(endpoint(.get, "/b?tagging") == .getBucketTagging)
        #expect(endpoint(.delete, "/b/k?tagging") == .deleteObjectTagging)
        #expect(endpoint(.get, "/b?analytics").operationName == "ListBucketAnalyticsConfigurations")
        #expect(endpoint(.get, "/b?analytics&id=a").operationName == "GetBucketAnalyticsConfiguration")
        #expect(endpoint(.post, "/b/k?restore") == .notImplemented(operation: "RestoreObject", subresource: "restore"))
        #expect(endpoint(.put, "/b/k?retention").operationName == "PutObjectRetention")
    }

    @Test func wrongCombinations() {
        #expect(endpoint(.post, "/b?acl") == .methodNotAllowed)
        #expect(endpoint(.head, "/b?location") == .methodNotAllowed)
        #expect(endpoint(.post, "/b/k") == .methodNotAllowed)
        #expect(endpoint(.get, "/b?acl&tagging") == .conflictingSubresources(["acl", "tagging"]))
    }

    @Test func presignedParametersAreNotSubresources() {
        let v4 =
            "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=ab"
        #expect(endpoint(.get, v4) == .getObject)
        #expect(endpoint(.put, v4) == .putObject)
        #expect(endpoint(.get, "/b/k?AWSAccessKeyId=AK&Expires=1&Signature=x") == .getObject)
    }

    @Test func permissions() {
        #expect(endpoint(.get, "/b/k").requiredAction == .read)
        #expect(endpoint(.put, "/b/k").requiredAction == .write)
        #expect(endpoint(.delete, "/b/k").requiredAction == .delete)
        #expect(endpoint(.delete, "/b").requiredAction == .delete)
        #expect(endpoint(.get, "/b").requiredAction == .list)
        #expect(endpoint(.get, "/b?policy").requiredAction == .list)
        // DeleteObjects is checked key by key; HeadBucket accepts any grant on the bucket.
        #expect(endpoint(.post, "/b?delete").requiredAction == nil)
        #expect(endpoint(.head, "/b").requiredAction == nil)
    }

    @Test func operationNames() {
        #expect(endpoint(.delete, "/b?publicAccessBlock").operationName == "DeletePublicAccessBlock")
        #expect(endpoint(.get, "/b?list-type=2").operationName == "ListObjectsV2")
    }

    @Test func headerPolicy() throws {
        func check(_ method: HTTPRequest.Method, _ target: String, _ fields: [(String, String)]) -> S3Error? {
            var headers = HTTPFields()
            for (name, value) in fields { headers[HTTPField.Name(name)!] = value }
            let request = S3Request(method: method, target: target, authority: "h", headers: headers, domain: "")!
            do {
                try UnsupportedHeaders.check(request, for: S3Endpoint(request))
                return nil
            } catch let error as S3Error {
                return error
            } catch { return S3Error.internalError() }
        }
        // SSE-S3 and SSE-KMS are carried out on PUT (ServerSideEncryption.swift); a part follows its upload.
        #expect(check(.put, "/b/k", [("x-amz-server-side-encryption", "AES256")]) == nil)
        #expect(
            check(.put, "/b/k?partNumber=1&uploadId=u", [("x-amz-server-side-encryption", "AES256")])?.code
                == "InvalidArgument")
        // SSE-C is carried out on PUT, GET, HEAD, copy and multipart (CustomerKeyHeaders.swift),
        // UploadPartCopy's source key included.
        #expect(check(.post, "/b/k?uploads", [("x-amz-server-side-encryption-customer-algorithm", "AES256")]) == nil)
        #expect(check(.get, "/b/k", [("x-amz-server-side-encryption-customer-key", "k")]) == nil)
        #expect(
            check(
                .put, "/b/k?partNumber=1&uploadId=u",
                [("x-amz-copy-source", "/s/k"), ("x-amz-copy-source-server-side-encryption-customer-key", "k")])
                == nil)
        #expect(check(.put, "/b/k", [("x-amz-object-lock-mode", "GOVERNANCE")]) == nil)
        #expect(check(.put, "/b/k?partNumber=1&uploadId=u", [("x-amz-object-lock-mode", "GOVERNANCE")])?.code == "NotImplemented")
        // ACLs of new objects are decided by the ACL code (ACL/ACLSettings.swift); a part has none.
        #expect(check(.put, "/b/k", [("x-amz-grant-read", "id=x")]) == nil)
        #expect(check(.put, "/b/k", [("x-amz-acl", "public-read")]) == nil)
        #expect(check(.put, "/b/k?partNumber=1&uploadId=u", [("x-amz-grant-read", "id=x")])?.code == "NotImplemented")
        #expect(check(.put, "/b/k?partNumber=1&uploadId=u", [("x-amz-acl", "public-read")])?.code == "NotImplemented")
        #expect(check(.put, "/b/k", [("x-amz-acl", "private")]) == nil)
        #expect(check(.put, "/b", [("x-amz-bucket-object-lock-enabled", "true")]) == nil)
        #expect(
            check(.put, "/b/k", [("x-amz-copy-source", "/s/k"), ("x-amz-copy-source-server-side-encryption-customer-key", "k")])
                == nil)
        // A read without SSE-C, and SSE on a listing, are not writes of an object.
        #expect(check(.get, "/b/k", []) == nil)
        #expect(try UnsupportedHeaders.check(formFields: [("acl", "private"), ("key", "k")]) == ())
        // A form's SSE-S3/SSE-KMS and SSE-C fields are carried out (PostObject.swift); the
        // encryption context is not.
        #expect(try UnsupportedHeaders.check(formFields: [("x-amz-server-side-encryption", "AES256")]) == ())
        #expect(try UnsupportedHeaders.check(formFields: [("x-amz-server-side-encryption-customer-key", "k")]) == ())
        #expect(throws: S3Error.self) {
            try UnsupportedHeaders.check(formFields: [("x-amz-server-side-encryption-context", "e30=")])
        }
    }

    @Test func claimedAccessKeyForTheAccessLog() {
        func claimed(_ target: String, authorization: String? = nil) -> String? {
            var headers = HTTPFields()
            if let authorization { headers[.authorization] = authorization }
            return S3Request(method: .get, target: target, authority: "h", headers: headers, domain: "")!.claimedAccessKey
        }
        #expect(
            claimed(
                "/b/k",
                authorization:
                    "AWS4-HMAC-SHA256 Credential=CAMONE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab")
                == "CAMONE")
        #expect(claimed("/b/k", authorization: "AWS CAMONE:c2lnbmF0dXJl") == "CAMONE")
        #expect(claimed("/b/k?X-Amz-Credential=CAMONE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request") == "CAMONE")
        #expect(claimed("/b/k?AWSAccessKeyId=CAMONE&Signature=x&Expires=1") == "CAMONE")
        #expect(claimed("/b/k") == nil)
    }
}
