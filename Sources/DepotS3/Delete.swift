import DepotConfig
import DepotEngine
import HummingbirdCore

extension S3Service {
    func deleteObject(_ c: S3Context, bucket: String, key: String) async throws -> Response {
        if c.request.query["uploadId"] != nil { throw S3Error.notImplemented("multipart upload") }
        if c.request.query["tagging"] != nil { throw S3Error.notImplemented("object tagging") }
        try authorize(c, .delete, bucket: bucket, key: key)
        try requireBucket(bucket)
        try await engine.deleteObject(bucket: bucket, key: key)
        return emptyResponse(.noContent)
    }
}
