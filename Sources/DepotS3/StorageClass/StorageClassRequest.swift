import DepotConfig
import DepotEngine
import HTTPTypes

/// `x-amz-storage-class` on object writes and in answers: STANDARD (the local store) and the
/// classes tiers declare are accepted, anything else is 400 InvalidStorageClass, as MinIO answers
/// for a class it has no tier for. What a declared class does is decided in StorageClasses.swift.
extension S3Service {
    static let storageClassHeader = "x-amz-storage-class"

    /// The internal metadata pair that records the class a new object is put in: none for
    /// STANDARD or no header; InvalidStorageClass for a class no tier declares.
    func storageClassPairs(_ value: String?) throws -> [(String, String)] {
        guard let value else { return [] }
        let classes = settings.configurationView().storageClasses
        guard classes.accepts(value) else {
            let declared = classes.tierOfClass.keys.sorted()
            throw S3Error(
                "InvalidStorageClass", .badRequest,
                "The storage class you specified is not valid: \(value) (accepted: \(([StorageClasses.standard] + declared).joined(separator: ", ")))"
            )
        }
        return value == StorageClasses.standard ? [] : [(StorageClasses.requestedKey, value)]
    }

    /// Refuses an unknown class on any object write before its body is read (a part carries no
    /// class of its own: its upload's is given at CreateMultipartUpload).
    func checkStorageClassHeader(_ r: S3Request, for endpoint: S3Endpoint) throws {
        guard endpoint.writesObject else { return }
        _ = try storageClassPairs(r.header(Self.storageClassHeader))
    }

    /// `x-amz-storage-class` on GET and HEAD: only for an object in a class other than STANDARD,
    /// as S3 leaves it out for STANDARD.
    func addStorageClassHeader(_ record: ObjectRecord, to headers: inout HTTPFields) {
        guard let name = settings.configurationView().storageClasses.reportedClass(of: record) else { return }
        headers[.init(Self.storageClassHeader)!] = name
    }
}
