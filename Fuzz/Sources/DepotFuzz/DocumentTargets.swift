import DepotS3

/// The bucket documents and configuration bodies a client sends (policy, ACL, CORS, lifecycle,
/// notification, replication, encryption, tagging, Object Lock, versioning, DeleteObjects,
/// public access block, ownership controls): one target per document, named and checked by
/// S3DocumentFuzzEntryPoints. The input is the request body (for `acl-headers`, the headers as
/// `name: value` lines). Beyond not trapping, each input must be accepted or refused with an S3
/// error code its parser may answer, and an accepted document must survive Depot writing it
/// back (write, parse, write again gives the same value and text).
enum DocumentTargets {
    static func run(_ document: S3DocumentFuzzEntryPoints.Document, _ input: [UInt8]) {
        let verdict = S3DocumentFuzzEntryPoints.check(document, input)
        if let violation = verdict.violation {
            preconditionFailure("\(document.rawValue): \(violation)")
        }
    }
}
