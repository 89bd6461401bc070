/// S3 Object Ownership (`?ownershipControls`), kept as the bucket document "ownership".
///
/// Depot follows AWS's default for buckets made since April 2023: a bucket that never set it is
/// `BucketOwnerEnforced`, so ACLs are disabled until someone chooses otherwise (every bucket an
/// earlier Depot made refused ACLs, so this keeps their behaviour). DeleteBucketOwnershipControls
/// leaves a bucket with no setting, which AWS treats as `ObjectWriter` (ACLs enabled); Depot
/// stores that choice as an empty document so it is not mistaken for "never set".
public enum ObjectOwnership: String, Sendable, CaseIterable {
    case bucketOwnerEnforced = "BucketOwnerEnforced"
    case bucketOwnerPreferred = "BucketOwnerPreferred"
    case objectWriter = "ObjectWriter"

    static let documentName = "ownership"

    /// What the bucket's documents say: the setting, and whether one is configured at all (a
    /// GET of a bucket whose controls were deleted answers OwnershipControlsNotFoundError).
    static func of(document: [UInt8]?) -> (ownership: ObjectOwnership, configured: Bool) {
        guard let document else { return (.bucketOwnerEnforced, true) }
        guard !document.isEmpty else { return (.objectWriter, false) }
        return (ObjectOwnership(rawValue: String(decoding: document, as: UTF8.self)) ?? .bucketOwnerEnforced, true)
    }

    /// The document to store for a configured setting (nil for the default, so a bucket that
    /// keeps the default keeps the record bytes it had).
    var document: [UInt8]? { self == .bucketOwnerEnforced ? nil : Array(rawValue.utf8) }

    /// The document that says "deleted: no setting".
    static let deletedDocument: [UInt8] = []

    var aclsEnabled: Bool { self != .bucketOwnerEnforced }

    /// `x-amz-object-ownership` on CreateBucket.
    static func parse(header value: String) throws -> ObjectOwnership {
        guard let ownership = ObjectOwnership(rawValue: value.trimmedSpaces()) else {
            throw S3Error.invalidArgument(
                "x-amz-object-ownership: '\(value)' is not one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return ownership
    }

    /// `<OwnershipControls><Rule><ObjectOwnership>…` (exactly one rule, as AWS requires).
    static func parse(controls bytes: [UInt8]) throws -> ObjectOwnership {
        let root = try XMLElement.parse(bytes)
        let rules = root.children("Rule")
        guard root.name == "OwnershipControls", rules.count == 1, let text = rules[0].child("ObjectOwnership")?.text else {
            throw S3Error.malformedXML()
        }
        guard let ownership = ObjectOwnership(rawValue: text.trimmedSpaces()) else {
            throw S3Error.malformedXML()
        }
        return ownership
    }

    var controlsDocument: XMLWriter {
        var xml = XMLWriter()
        xml.group("OwnershipControls", namespace: true) { x in
            x.group("Rule") { r in r.element("ObjectOwnership", rawValue) }
        }
        return xml
    }
}
