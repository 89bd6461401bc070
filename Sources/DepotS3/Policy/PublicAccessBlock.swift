/// A bucket's PublicAccessBlock configuration (`?publicAccessBlock`), kept as the bucket
/// document "public-access-block" in its XML form. What each flag does in Depot:
/// - BlockPublicPolicy: PutBucketPolicy with a public policy (BucketPolicy.isPublic) is refused
///   with AccessDenied, as AWS refuses it; a policy already stored stays.
/// - RestrictPublicBuckets: public Allow statements of the policy grant nothing.
/// - BlockPublicAcls / IgnorePublicAcls: stored and reported; canned ACLs read them through
///   `S3Service.publicAccessBlock(of:)`.
public struct PublicAccessBlock: Sendable, Equatable {
    public var blockPublicAcls = false
    public var ignorePublicAcls = false
    public var blockPublicPolicy = false
    public var restrictPublicBuckets = false

    public static let documentName = "public-access-block"

    public init(
        blockPublicAcls: Bool = false, ignorePublicAcls: Bool = false, blockPublicPolicy: Bool = false,
        restrictPublicBuckets: Bool = false
    ) {
        self.blockPublicAcls = blockPublicAcls
        self.ignorePublicAcls = ignorePublicAcls
        self.blockPublicPolicy = blockPublicPolicy
        self.restrictPublicBuckets = restrictPublicBuckets
    }

    private static let names = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]

    /// Parses the request body (or the stored document); a flag left out is false, as in AWS.
    init(xml bytes: [UInt8]) throws {
        let root = try XMLElement.parse(bytes)
        guard root.name == "PublicAccessBlockConfiguration" else { throw S3Error.malformedXML() }
        var flags: [String: Bool] = [:]
        for child in root.children {
            guard Self.names.contains(child.name), flags[child.name] == nil else { throw S3Error.malformedXML() }
            switch child.text.trimmedSpaces().lowercased() {
            case "true": flags[child.name] = true
            case "false": flags[child.name] = false
            default: throw S3Error.malformedXML()
            }
        }
        blockPublicAcls = flags["BlockPublicAcls"] ?? false
        ignorePublicAcls = flags["IgnorePublicAcls"] ?? false
        blockPublicPolicy = flags["BlockPublicPolicy"] ?? false
        restrictPublicBuckets = flags["RestrictPublicBuckets"] ?? false
    }

    var xml: XMLWriter {
        var xml = XMLWriter()
        xml.group("PublicAccessBlockConfiguration", namespace: true) { x in
            x.element("BlockPublicAcls", blockPublicAcls)
            x.element("IgnorePublicAcls", ignorePublicAcls)
            x.element("BlockPublicPolicy", blockPublicPolicy)
            x.element("RestrictPublicBuckets", restrictPublicBuckets)
        }
        return xml
    }
}
