import DepotConfig

/// What the S3 door reads of the configuration in effect on every object request, built once
/// per configuration (RuntimeConfiguration) so a request costs a dictionary lookup: the declared
/// storage classes, and each bucket's lifecycle rules as the policies already made of them (the
/// `x-amz-expiration` header reads these instead of the bucket's stored XML).
public struct S3ConfigurationView: Sendable {
    public var storageClasses: StorageClasses
    /// Bucket → the policies of its enabled lifecycle rules; a bucket without rules is absent.
    public var lifecyclePolicies: [String: [PolicySettings]]

    public init(configuration: DepotConfiguration) {
        storageClasses = StorageClasses(tiers: configuration.tiers)
        var byBucket: [String: [PolicySettings]] = [:]
        for policy in configuration.policies where LifecyclePolicies.isLifecyclePolicy(policy.name) {
            guard let bucket = policy.bucket else { continue }
            byBucket[bucket, default: []].append(policy)
        }
        lifecyclePolicies = byBucket
    }

    /// No tiers, no rules (before the server installs the real one).
    public static let empty = S3ConfigurationView(configuration: DepotConfiguration())
}
