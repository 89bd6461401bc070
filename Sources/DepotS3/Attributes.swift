import DepotStorage
import HTTPTypes
import HummingbirdCore

extension S3Service {
    /// The attributes a client may ask for in `x-amz-object-attributes`, as AWS names them.
    static let objectAttributeNames: Set<String> = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]

    /// GetObjectAttributes (`GET /bucket/key?attributes`): the attributes named in `x-amz-object-attributes`,
    /// without the body. `ObjectParts` is answered for multipart objects only (as AWS does), paged by
    /// `x-amz-max-parts` and `x-amz-part-number-marker`.
    func getObjectAttributes(_ c: S3Context, bucket: String, key: String) throws -> Response {
        let r = c.request
        let requested = Set(
            r.headers[values: .init("x-amz-object-attributes")!]
                .flatMap { $0.split(separator: ",") }
                .map { $0.trimmedSpaces() }
                .filter { !$0.isEmpty })
        guard !requested.isEmpty else {
            throw S3Error.invalidRequest(
                "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty")
        }
        guard requested.isSubset(of: Self.objectAttributeNames) else {
            throw S3Error(
                "InvalidArgument", .badRequest, "Invalid attribute name specified.",
                details: [
                    ("ArgumentName", "x-amz-object-attributes"),
                    ("ArgumentValue", requested.subtracting(Self.objectAttributeNames).sorted().joined(separator: ",")),
                ])
        }
        let maxParts = try IntegerParameter.attributesMaxParts.parse(
            r.header("x-amz-max-parts")?.trimmedSpaces(), default: 1000)
        let marker = try IntegerParameter.attributesPartNumberMarker.parse(
            r.header("x-amz-part-number-marker")?.trimmedSpaces(), default: 0)
        try requireBucket(bucket)
        let record = try readableVersion(c, bucket: bucket, key: key)

        var xml = XMLWriter()
        xml.group("GetObjectAttributesResponse", namespace: true) { x in
            // Unquoted here, unlike the ETag header.
            if requested.contains("ETag") { x.element("ETag", record.etag) }
            if requested.contains("Checksum"), !record.checksums.isEmpty {
                x.group("Checksum") { checksum in
                    for (algorithm, value) in record.checksums { checksum.element("Checksum" + algorithm, value) }
                    if !record.checksumType.isEmpty { checksum.element("ChecksumType", record.checksumType) }
                }
            }
            if requested.contains("ObjectParts"), !record.partSizes.isEmpty {
                let all = record.partSizes.enumerated().map { (number: $0.offset + 1, size: $0.element) }
                let after = all.filter { $0.number > marker }
                let page = after.prefix(maxParts)
                x.group("ObjectParts") { parts in
                    parts.element("PartsCount", all.count)
                    parts.element("PartNumberMarker", marker)
                    if let last = page.last { parts.element("NextPartNumberMarker", last.number) }
                    parts.element("MaxParts", maxParts)
                    parts.element("IsTruncated", after.count > page.count)
                    for part in page {
                        parts.group("Part") { p in
                            p.element("PartNumber", part.number)
                            p.element("Size", part.size)
                        }
                    }
                }
            }
            if requested.contains("StorageClass") {
                x.element("StorageClass", settings.configurationView().storageClasses.listedClass(of: record))
            }
            if requested.contains("ObjectSize") { x.element("ObjectSize", record.size) }
        }
        var response = xmlResponse(xml)
        response.headers[.lastModified] = httpDate(seconds: record.created / 1000)
        addVersionHeaders(record, &response.headers)
        return response
    }
}
