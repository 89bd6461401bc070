import DepotConfig
import DepotEngine

/// The Depot policies of every bucket's stored rule document of one kind (lifecycle,
/// replication), for the configuration in effect. A stored document that no longer parses is
/// skipped and reported in `problems`, so one damaged bucket cannot stop the start; `policies`
/// reports the rules it leaves out (a tier gone since) the same way.
enum BucketRulePolicies {
    static func all(
        engine: Engine, document name: String, what: String,
        _ policies: (_ bucket: String, _ document: [UInt8]) throws -> (policies: [PolicySettings], problems: [String])
    ) throws -> (policies: [PolicySettings], problems: [String]) {
        var found: [PolicySettings] = []
        var problems: [String] = []
        for (bucketName, bucket) in try engine.listBuckets() {
            guard let document = bucket.document(name) else { continue }
            do {
                let made = try policies(bucketName, document)
                found += made.policies
                problems += made.problems
            } catch {
                problems.append("bucket \(bucketName): its stored \(what) does not parse (\(error)); its rules are not applied")
            }
        }
        return (found, problems)
    }
}
