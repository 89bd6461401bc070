import DepotEngine
import HTTPTypes
import HummingbirdCore
import NIOCore

/// The bucket settings kept as documents (`BucketRecord.documents`) that S3 answers as they were
/// stored: reading one back parsed, and answering its GET.
extension S3Service {
    /// The bucket's document `name`, parsed; nil when it has none, or when there is no such bucket
    /// (a name the index cannot hold has none either). Documents are stored only after
    /// validation, so one that no longer parses is damage: logged, and treated as absent, since no
    /// setting is safer than a guess.
    func storedBucketDocument<Document>(
        _ bucket: String, _ name: String, what: String, _ parse: ([UInt8]) throws -> Document
    ) -> Document? {
        guard let record = try? engine.bucket(bucket), let bytes = record.document(name) else { return nil }
        do {
            return try parse(bytes)
        } catch {
            logger.error("bucket \(bucket): the stored \(what) does not parse (\(error)); it is not applied")
            return nil
        }
    }

    /// GET of a document stored as the canonical XML answer; `configuration`'s "not configured"
    /// error when the bucket has none.
    func bucketDocumentResponse(_ bucket: String, _ name: String, _ configuration: BucketConfiguration) throws -> Response {
        guard let record = try engine.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
        guard let bytes = record.document(name) else { throw configuration.notConfigured(bucket: bucket)! }
        let headers: HTTPFields = [.contentType: "application/xml", .contentLength: String(bytes.count)]
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
