import HummingbirdCore

extension S3Service {
    /// GetObjectAttributes (`GET /bucket/key?attributes`).
    func getObjectAttributes(_ c: S3Context, bucket: String, key: String) throws -> Response {
        throw S3Error.notImplemented("GetObjectAttributes (?attributes)")
    }
}
