import DepotSigV4
import Testing

/// Signature Version 2 against the examples of the S3 developer guide ("Signing and authenticating REST requests",
/// Authentication examples), all made with the documented example key pair.
struct SigV2Tests {
    static let accessKey = "AKIAIOSFODNN7EXAMPLE"
    static let secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    /// The guide's "Object GET" example (virtual-host style: the bucket comes from Host).
    @Test func objectGet() throws {
        let request = SigV4Request(
            method: "GET", rawPath: "/photos/puppy.jpg",
            headers: [
                ("Host", "awsexamplebucket1.us-west-1.s3.amazonaws.com"), ("Date", "Tue, 27 Mar 2007 19:36:42 +0000"),
                ("Authorization", "AWS \(Self.accessKey):qgk2+6Sv9/oM7G3qLEjTH1a1l1g="),
            ])
        #expect(SigV2Verifier.isSigV2(request))
        let claim = try SigV2Verifier().claim(of: request, virtualHostBucket: "awsexamplebucket1")
        #expect(claim.accessKey == Self.accessKey)
        #expect(claim.stringToSign == "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg")
        #expect(claim.kind == .header(time: 1_175_024_202))
        try SigV2Verifier().verify(claim, secretKey: Self.secretKey, now: 1_175_024_202 + 60)
    }

    /// The guide's string-to-sign examples (the earlier edition's `johnsmith` bucket) and their signatures.
    @Test func documentedStringsToSign() {
        let examples: [(String, String)] = [
            ("GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg", "bWq2s1WEIj+Ydj0vQ697zp+IXMU="),
            ("PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg", "MyyxeRY7whkBe+bq8fHCL/2kKUg="),
            ("GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/", "htDYFYduRNen8P9ZfE/s9SuKy0U="),
            ("GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl", "c2WLPFtWHVgbEmeEG93a4cG37dM="),
            ("GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/", "qGdzdERIC03wnaRNKh6OqZehG9s="),
            (
                "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
                "DNEZGsoieTZ92F3bUfSPQcbGmlM="
            ),
            ("GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg", "NpgCjnDzrM+WFzoENXmpNDUsSn8="),
        ]
        for (text, signature) in examples {
            #expect(SigV2.signature(secretKey: Self.secretKey, message: text) == signature, "\(text)")
            #expect(SigV2.isValidSignature(signature, secretKey: Self.secretKey, message: text))
        }
    }

    /// The guide's "Upload" example: Content-MD5, Content-Type, repeated and mixed-case x-amz- headers.
    @Test func uploadWithAmzHeaders() throws {
        let request = SigV4Request(
            method: "PUT", rawPath: "/db-backup.dat.gz",
            headers: [
                ("Host", "static.johnsmith.net:8080"), ("Date", "Tue, 27 Mar 2007 21:06:08 +0000"),
                ("x-amz-acl", "public-read"), ("content-type", "application/x-download"),
                ("Content-MD5", "4gJE4saaMU4BqNR0kLY+lw=="), ("X-Amz-Meta-ReviewedBy", "joe@johnsmith.net"),
                ("X-Amz-Meta-ReviewedBy", "jane@johnsmith.net"), ("X-Amz-Meta-FileChecksum", "0x02661779"),
                ("X-Amz-Meta-ChecksumAlgorithm", "crc32"), ("Content-Disposition", "attachment; filename=database.dat"),
                ("Content-Encoding", "gzip"), ("Content-Length", "5913339"),
                ("Authorization", "AWS \(Self.accessKey):ilyl83RwaSoYIEdixDQcA4OnAnc="),
            ])
        let claim = try SigV2Verifier().claim(of: request, virtualHostBucket: "static.johnsmith.net")
        #expect(
            claim.stringToSign
                == "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n"
                + "x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n"
                + "x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz")
        try SigV2Verifier().verify(claim, secretKey: Self.secretKey, now: 1_175_029_568)
    }

    /// With x-amz-date the Date line is empty; sub-resources are signed (sorted), other parameters are not.
    @Test func amzDateAndSubResources() throws {
        let date = "Tue, 27 Mar 2007 21:20:26 +0000"
        let text = "DELETE\n\n\n\nx-amz-date:\(date)\n/johnsmith/photos/puppy.jpg?uploadId=abc"
        let signature = SigV2.signature(secretKey: Self.secretKey, message: text)
        let request = SigV4Request(
            method: "DELETE", rawPath: "/johnsmith/photos/puppy.jpg", rawQuery: "uploadId=abc&max-keys=3",
            headers: [
                ("Host", "127.0.0.1:9000"), ("Date", "Tue, 27 Mar 2007 21:20:27 +0000"), ("x-amz-date", date),
                ("Authorization", "AWS \(Self.accessKey):\(signature)"),
            ])
        let claim = try SigV2Verifier().claim(of: request)
        #expect(claim.stringToSign == text)
        try SigV2Verifier().verify(claim, secretKey: Self.secretKey, now: 1_175_030_426)
        #expect(
            SigV2.canonicalResource(
                bucket: nil, rawPath: "/b/k", query: [("uploadId", "u"), ("partNumber", "2"), ("prefix", "p"), ("acl", "")])
                == "/b/k?acl&partNumber=2&uploadId=u")
    }

    /// botocore sends `GET /bucket` but signs the bucket's resource as `/bucket/`, as the guide's "List" example does.
    @Test func pathStyleBucketWithOrWithoutTrailingSlash() throws {
        let date = "Tue, 27 Mar 2007 19:42:41 +0000"
        for path in ["/johnsmith", "/johnsmith/"] {
            let request = SigV4Request(
                method: "GET", rawPath: path, rawQuery: "prefix=photos&max-keys=50&marker=puppy",
                headers: [("Date", date), ("Authorization", "AWS \(Self.accessKey):htDYFYduRNen8P9ZfE/s9SuKy0U=")])
            let claim = try SigV2Verifier().claim(of: request)
            try SigV2Verifier().verify(claim, secretKey: Self.secretKey, now: 1_175_024_561)
        }
    }

    /// The guide's query-string example, as a URL: valid until Expires, refused afterwards.
    @Test func presignedQuery() throws {
        let request = SigV4Request(
            method: "GET", rawPath: "/johnsmith/photos/puppy.jpg",
            rawQuery: "AWSAccessKeyId=\(Self.accessKey)&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D",
            headers: [("Host", "127.0.0.1:9000")])
        #expect(SigV2Verifier.isSigV2(request))
        let claim = try SigV2Verifier().claim(of: request)
        #expect(claim.kind == .presigned(expires: 1_175_139_620))
        try SigV2Verifier().verify(claim, secretKey: Self.secretKey, now: 1_175_139_620)
        #expect(throws: SigV4Error.expired) {
            try SigV2Verifier().verify(claim, secretKey: Self.secretKey, now: 1_175_139_621)
        }
    }

    @Test func refusesWrongSignaturesSkewAndMalformedHeaders() throws {
        let request = SigV4Request(
            method: "GET", rawPath: "/johnsmith/photos/puppy.jpg",
            headers: [
                ("Host", "h"), ("Date", "Tue, 27 Mar 2007 19:36:42 +0000"),
                ("Authorization", "AWS \(Self.accessKey):bWq2s1WEIj+Ydj0vQ697zp+IXMU="),
            ])
        let claim = try SigV2Verifier().claim(of: request)
        try SigV2Verifier().verify(claim, secretKey: Self.secretKey, now: 1_175_024_202)
        #expect(throws: SigV4Error.signatureMismatch) {
            try SigV2Verifier().verify(claim, secretKey: "another-secret", now: 1_175_024_202)
        }
        #expect(throws: SigV4Error.requestTimeTooSkewed) {
            try SigV2Verifier().verify(claim, secretKey: Self.secretKey, now: 1_175_024_202 + 901)
        }
        for authorization in ["AWS nocolon", "AWS :sig", "AWS key:"] {
            let bad = SigV4Request(
                method: "GET", rawPath: "/",
                headers: [("Date", "Tue, 27 Mar 2007 19:36:42 +0000"), ("Authorization", authorization)])
            #expect(throws: SigV4Error.self) { try SigV2Verifier().claim(of: bad) }
        }
        let undated = SigV4Request(method: "GET", rawPath: "/", headers: [("Authorization", "AWS k:c2ln")])
        #expect(throws: SigV4Error.missingDate) { try SigV2Verifier().claim(of: undated) }
        #expect(!SigV2.isValidSignature("not base64!", secretKey: Self.secretKey, message: "x"))
        #expect(
            !SigV2Verifier.isSigV2(SigV4Request(method: "GET", rawPath: "/", headers: [("Authorization", "AWS4-HMAC-SHA256 x")])))
    }
}
