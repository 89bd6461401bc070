/// System metadata pairs Depot keeps for itself beside the standard headers an object stores.
/// They travel with the record (logged, rebuilt, copied into versions) but are never sent as
/// headers: not to S3 clients on GET and HEAD, not to a tier a copy is written to.
extension ObjectRecord {
    /// The name prefix of every such pair. No client can store one: only the standard headers
    /// (`storedSystemHeaders`) are taken from a request into the system metadata.
    public static let internalMetadataPrefix = "x-depot-"

    /// The canned ACL an object was given (`x-amz-acl`, PutObjectAcl), absent for `private`.
    public static let cannedACLKey = "x-depot-acl"

    public static func isInternalMetadata(_ name: String) -> Bool { name.hasPrefix(internalMetadataPrefix) }

    /// The system metadata that is sent as headers (GET, HEAD, tier copies).
    public var headerMetadata: [(String, String)] { systemMetadata.filter { !Self.isInternalMetadata($0.0) } }

    /// The stored canned ACL name, nil when none is stored (`private`).
    public var cannedACLName: String? { systemMetadata.first { $0.0 == Self.cannedACLKey }?.1 }
}
