import DepotEngine
import DepotHashing
import Glibc

/// A replication target (DESIGN "Tiers and policies").
public struct TierSettings: Sendable, Equatable {
    public enum Kind: String, Sendable { case s3, filesystem, gcs, azure, vault }

    public var name: String
    public var kind: Kind
    /// Key prefix on the tier; objects land under `<prefix><key>` (or `<prefix><bucket>/<key>`).
    public var prefix: String = ""
    public var includeBucket = false
    public var concurrency = 4
    /// Copies that failed this many times are marked FAILED (and listed) instead of retried.
    public var maxAttempts = 12
    /// Seconds of failing without a single success after which the tier counts as failing:
    /// `depot_tier_failing` goes to 1 and one warning is logged (one more when it recovers).
    public var failingAfter = 300
    /// Upper bound on the bytes per second sent to this tier, over all its copies at once
    /// (nil: unlimited), so replication does not starve a site's uplink of live video.
    public var bandwidth: Int?
    /// When copies may start (nil: always).
    public var window: TimeWindow?
    /// The S3 storage class this tier is (`GLACIER_IR`, any upper-case name but STANDARD, as
    /// MinIO's `mc ilm tier add` names tiers): PUTs with `x-amz-storage-class` and lifecycle
    /// Transitions naming it send objects here (StorageClasses.swift). nil: no class.
    public var storageClass: String?
    /// filesystem
    public var path = ""
    /// s3
    public var endpoint = ""
    public var region = "us-east-1"
    public var bucket = ""
    public var accessKey = ""
    public var secretKey = ""
    public var pathStyle = true
    public var multipartThreshold = 64 << 20
    /// s3: the destination bucket has Object Lock enabled, so each copy of a locked version is
    /// sent with the same retention mode, retain-until date and legal hold (off by default: a
    /// bucket without Object Lock refuses those headers).
    public var objectLock = false
    public var partSize = 16 << 20
    /// s3: the backend's own encryption of every copy (TierEncryption.swift); nil: its default.
    public var serverSideEncryption: TierEncryption?
    /// gcs: a service account's JSON key (its text); empty with a custom endpoint means no
    /// authentication (emulators).
    public var credentials = ""
    /// gcs: where the key's JWT is exchanged for an access token (default: the key's token_uri).
    public var tokenURI = ""
    /// azure: the storage account and its base64 key (Shared Key), or a SAS token.
    public var account = ""
    public var accountKey = ""
    public var sas = ""
    /// vault: the remote Vault's storage provider (`X-Kerberos-Storage-Provider`; empty: the
    /// remote account's main provider). `endpoint` is the remote's API base (`https://host/api`),
    /// `accessKey`/`secretKey` its account, `partSize` the tus chunk (VaultTier.swift).
    public var provider = ""

    /// Where an object lands on the tier.
    public func remoteKey(bucket: String, key: String) -> String {
        prefix + (includeBucket ? bucket + "/" : "") + key
    }
}

/// Which objects a policy applies to and what it does with them.
public struct PolicySettings: Sendable, Equatable {
    public enum Mode: String, Sendable {
        case continuous
        case onDemand = "on-demand"
    }

    public var name: String
    public var bucket: String?
    public var prefix: String = ""
    /// A key pattern (see `KeyGlob`), checked in addition to the prefix.
    public var glob: KeyGlob?
    /// Only objects written by this account (access key).
    public var account: String?
    public var metadata: [String: String] = [:]
    /// Object tags that must all be present with these values (tags given at upload).
    public var tags: [String: String] = [:]
    public var minimumSize: Int?
    public var maximumSize: Int?
    public var replicateTo: [String] = []
    public var mode: Mode = .continuous
    /// Whether deleting an object locally deletes its copies on the tiers (off by default).
    public var propagateDeletes = false
    /// With `propagateDeletes`: whether a DELETE naming a version removes that version's copies
    /// too. S3 replication rules replicate delete markers only, never deletes by version id.
    public var propagatesVersionDeletes = true
    /// Which versions of a key in a versioned bucket go to the tiers (`replicate.versions`).
    public enum Versions: String, Sendable { case current, all }
    /// `all` (the default): in a versioned bucket each version with an id of its own also goes
    /// to `VersionCopyKey` (`.depot-versions/<version id>/<key>`), the current one also to its
    /// plain key; an unversioned bucket sees no difference. `current`: only the plain key, which
    /// each newer version replaces.
    public var replicateVersions: Versions = .all
    /// How objects Depot stores encrypted are sent (TierEncryption.swift).
    public var encryptedObjects: EncryptedObjectCopies = .plaintext
    public enum ExpireWhere: String, Sendable { case local, tiers, everywhere }
    /// Retention: delete objects older than this many seconds (nil: keep forever).
    public var expireAfter: Int?
    public var expireWhere: ExpireWhere = .local
    /// Retention by date: every matching object expires at this time (milliseconds since the
    /// epoch), whatever its age (an S3 lifecycle `Expiration/Date`).
    public var expireAt: Int64?
    /// Whether an age-based expiry falls at the next midnight UTC after `created + expireAfter`,
    /// as S3 lifecycle rules count days (see `PolicyExpiry.swift`).
    public var expireAtMidnightUTC = false
    /// Versioned buckets: a noncurrent version (one a newer version or delete marker replaced)
    /// is deleted this many seconds after it became noncurrent (`expire.noncurrentAfter`, an S3
    /// lifecycle `NoncurrentVersionExpiration/NoncurrentDays`); nil: kept (PolicyVersionExpiry.swift).
    public var expireNoncurrentAfter: Int?
    /// With `expireNoncurrentAfter`: each key's newest this many noncurrent versions are kept
    /// whatever their age (`expire.keepNewerNoncurrent`, S3's `NewerNoncurrentVersions`).
    public var keepNewerNoncurrent: Int?
    /// Remove a delete marker that is its key's current version with no older version left
    /// (`expire.expiredDeleteMarkers`, S3's `Expiration/ExpiredObjectDeleteMarker`).
    public var expireDeleteMarkers = false
    /// Abort multipart uploads under the prefix this many seconds after they began (an S3
    /// lifecycle `AbortIncompleteMultipartUpload`; nil: only `storage.uploadExpiry` applies).
    public var abortUploadsAfter: Int?
    /// Evict the local copy this many seconds after creation, once every replicate target holds it.
    public var transitionAfter: Int?
    /// Transition by date (milliseconds since the epoch; an S3 lifecycle `Transition/Date`).
    public var transitionAt: Int64?
    /// The Object Lock retention given to each new matching version whose own request named none
    /// (before the bucket's default); only in buckets with Object Lock, skipped elsewhere.
    public var lock: LockRetention?
    /// Objects one of these matches are left to it: an S3 replication rule of higher priority to
    /// the same tier decides for them (its DeleteMarkerReplication applies, not this one's).
    public var yieldsTo: [PolicySettings] = []

    /// Whether an object with this bucket, key, size, user metadata, owner and tags matches.
    public func matches(
        bucket: String, key: String, size: UInt64, metadata userMetadata: [(String, String)], owner: String? = nil,
        tags objectTags: [(String, String)] = []
    ) -> Bool {
        if let b = self.bucket, b != "*", b != bucket { return false }
        if let account, account != owner { return false }
        if !key.hasPrefix(prefix) { return false }
        if let glob, !glob.matches(key) { return false }
        if let minimumSize, size < UInt64(minimumSize) { return false }
        if let maximumSize, size > UInt64(maximumSize) { return false }
        for (name, value) in metadata {
            guard userMetadata.contains(where: { $0.0 == name.lowercased() && $0.1 == value }) else { return false }
        }
        for (name, value) in tags {
            guard objectTags.contains(where: { $0.0 == name && $0.1 == value }) else { return false }
        }
        if yieldsTo.contains(where: {
            $0.matches(bucket: bucket, key: key, size: size, metadata: userMetadata, owner: owner, tags: objectTags)
        }) {
            return false
        }
        return true
    }

    /// Whether a stored object version matches.
    public func matches(bucket: String, key: String, record: ObjectRecord) -> Bool {
        matches(
            bucket: bucket, key: key, size: record.size, metadata: record.userMetadata, owner: record.owner, tags: record.tags)
    }
}

extension DepotConfiguration {
    static func parseTier(_ node: ConfigNode) throws -> TierSettings {
        try node.requireMapping()
        let name = try node["name"].requiredString()
        let typeText = try node["type"].requiredString()
        guard let kind = TierSettings.Kind(rawValue: typeText) else {
            throw ConfigError(node.path + ".type", "must be s3, filesystem, gcs, azure or vault, got \"\(typeText)\"")
        }
        var tier = TierSettings(name: name, kind: kind)
        tier.prefix = try node["prefix"].string(default: "")
        tier.includeBucket = try node["includeBucket"].bool(default: false)
        tier.concurrency = try node["concurrency"].int(default: 4)
        guard (1...64).contains(tier.concurrency) else { throw ConfigError(node.path + ".concurrency", "must be from 1 to 64") }
        tier.maxAttempts = try node["maxAttempts"].int(default: 12)
        guard tier.maxAttempts >= 1 else { throw ConfigError(node.path + ".maxAttempts", "must be at least 1") }
        tier.failingAfter = try node["failingAfter"].duration(default: tier.failingAfter)
        guard tier.failingAfter >= 1 else { throw ConfigError(node.path + ".failingAfter", "must be at least 1s") }
        switch kind {
        case .filesystem:
            tier.path = try node["path"].requiredString()
        case .s3:
            tier.endpoint = try node["endpoint"].requiredString()
            guard tier.endpoint.hasPrefix("http://") || tier.endpoint.hasPrefix("https://") else {
                throw ConfigError(node.path + ".endpoint", "must start with http:// or https://")
            }
            tier.region = try node["region"].string(default: "us-east-1")
            tier.bucket = try node["bucket"].requiredString()
            tier.accessKey = try node["accessKey"].requiredString()
            tier.secretKey = try node["secretKey"].requiredString()
            tier.pathStyle = try node["pathStyle"].bool(default: true)
            tier.multipartThreshold = try node["multipartThreshold"].byteSize(default: tier.multipartThreshold)
            tier.objectLock = try node["objectLock"].bool(default: false)
            tier.partSize = try node["partSize"].byteSize(default: tier.partSize)
            guard tier.partSize >= 5 << 20 else { throw ConfigError(node.path + ".partSize", "must be at least 5MiB") }
            tier.serverSideEncryption = try parseTierEncryption(node, kind: kind)
        case .gcs:
            tier.bucket = try node["bucket"].requiredString()
            tier.endpoint = try node["endpoint"].string(default: "https://storage.googleapis.com")
            guard tier.endpoint.hasPrefix("http://") || tier.endpoint.hasPrefix("https://") else {
                throw ConfigError(node.path + ".endpoint", "must start with http:// or https://")
            }
            if let file = try node["credentialsFile"].string() {
                guard let text = readWholeFile(file) else {
                    throw ConfigError(node.path + ".credentialsFile", "cannot read \(file)")
                }
                tier.credentials = text
            }
            if let inline = try node["credentials"].string() { tier.credentials = inline }
            if !tier.credentials.isEmpty {
                do {
                    _ = try ServiceAccountKey(json: tier.credentials)
                } catch let error as ServiceAccountKey.Invalid {
                    throw ConfigError(
                        node.path + (node["credentials"].isPresent ? ".credentials" : ".credentialsFile"), error.reason)
                }
            } else if tier.endpoint == "https://storage.googleapis.com" {
                throw ConfigError(node.path + ".credentialsFile", "is required for Google Cloud Storage (a service account key)")
            }
            tier.tokenURI = try node["tokenUri"].string(default: "")
            tier.partSize = try node["chunkSize"].byteSize(default: 8 << 20)
            guard tier.partSize >= 256 << 10, tier.partSize % (256 << 10) == 0 else {
                throw ConfigError(node.path + ".chunkSize", "must be a multiple of 256KiB")
            }
        case .azure:
            tier.account = try node["account"].requiredString()
            tier.bucket = try node["container"].requiredString()
            tier.endpoint = try node["endpoint"].string(default: "https://\(tier.account).blob.core.windows.net")
            guard tier.endpoint.hasPrefix("http://") || tier.endpoint.hasPrefix("https://") else {
                throw ConfigError(node.path + ".endpoint", "must start with http:// or https://")
            }
            tier.accountKey = try node["accountKey"].string(default: "")
            tier.sas = try node["sas"].string(default: "")
            if tier.sas.hasPrefix("?") { tier.sas.removeFirst() }
            guard !tier.accountKey.isEmpty || !tier.sas.isEmpty else {
                throw ConfigError(node.path + ".accountKey", "give accountKey (Shared Key) or sas")
            }
            if !tier.accountKey.isEmpty && Base64.decode(tier.accountKey) == nil {
                throw ConfigError(node.path + ".accountKey", "must be the base64 key the portal shows")
            }
            tier.multipartThreshold = try node["blockThreshold"].byteSize(default: 64 << 20)
            tier.partSize = try node["blockSize"].byteSize(default: 8 << 20)
            guard (64 << 10...100 << 20).contains(tier.partSize) else {
                throw ConfigError(node.path + ".blockSize", "must be from 64KiB to 100MiB")
            }
        case .vault:
            try parseVaultTier(node, into: &tier)
        }
        if kind != .s3 { _ = try parseTierEncryption(node, kind: kind) }  // refused, naming the field
        if node["bandwidth"].isPresent {
            let perSecond = try node["bandwidth"].byteSize(default: 0)
            guard perSecond >= 64 << 10 else {
                throw ConfigError(node.path + ".bandwidth", "must be at least 64KB (bytes per second)")
            }
            tier.bandwidth = perSecond
        }
        if let text = try node["window"].string() {
            do {
                tier.window = try TimeWindow(text)
            } catch let error as TimeWindowError {
                throw ConfigError(node.path + ".window", error.reason)
            }
        }
        if let storageClass = try node["storageClass"].string() {
            if let problem = StorageClasses.problem(withDeclared: storageClass) {
                throw ConfigError(node.path + ".storageClass", problem)
            }
            tier.storageClass = storageClass
        }
        return tier
    }

    static func parsePolicy(_ node: ConfigNode, tiers: [TierSettings]) throws -> PolicySettings {
        try node.requireMapping()
        var policy = PolicySettings(name: try node["name"].requiredString())
        let match = node["match"]
        try match.requireMapping()
        policy.bucket = try match["bucket"].string()
        policy.prefix = try match["prefix"].string(default: "")
        if let pattern = try match["key"].string() {
            do {
                policy.glob = try KeyGlob(pattern)
            } catch let error as KeyGlobError {
                throw ConfigError(match.path + ".key", error.description)
            }
        }
        let tags = match["tags"]
        try tags.requireMapping()
        if let mapping = tags.node?.mapping {
            for (k, _) in mapping {
                let name = k.string ?? ""
                policy.tags[name] = try tags[name].requiredString()
            }
        }
        policy.account = try match["account"].string()
        let metadata = match["metadata"]
        try metadata.requireMapping()
        if let mapping = metadata.node?.mapping {
            for (k, _) in mapping {
                let name = k.string ?? ""
                policy.metadata[name] = try metadata[name].requiredString()
            }
        }
        if match["minSize"].isPresent { policy.minimumSize = try match["minSize"].byteSize(default: 0) }
        if match["maxSize"].isPresent { policy.maximumSize = try match["maxSize"].byteSize(default: 0) }
        let replicate = node["replicate"]
        if replicate.isPresent {
            try replicate.requireMapping()
            for (i, target) in try replicate["to"].stringList().enumerated() {
                guard tiers.contains(where: { $0.name == target }) else {
                    throw ConfigError("\(replicate.path).to[\(i)]", "no tier is named \"\(target)\"")
                }
                policy.replicateTo.append(target)
            }
            let mode = try replicate["mode"].string(default: "continuous")
            guard let parsed = PolicySettings.Mode(rawValue: mode) else {
                throw ConfigError(replicate.path + ".mode", "must be continuous or on-demand")
            }
            policy.mode = parsed
            policy.propagateDeletes = try replicate["deletes"].bool(default: false)
            let versions = try replicate["versions"].string(default: "all")
            guard let chosen = PolicySettings.Versions(rawValue: versions) else {
                throw ConfigError(replicate.path + ".versions", "must be all or current")
            }
            policy.replicateVersions = chosen
            policy.encryptedObjects = try parseEncryptedObjectCopies(replicate, tiers: tiers, to: policy.replicateTo)
        }
        let expire = node["expire"]
        if expire.isPresent {
            try expire.requireMapping()
            try parseVersionExpiry(expire, into: &policy)
            // `after` may be left out only when the policy expires versions instead.
            if expire["after"].isPresent || !policy.expiresVersions {
                policy.expireAfter = try expire["after"].duration(default: 0)
                guard (policy.expireAfter ?? 0) > 0 else {
                    throw ConfigError(
                        expire.path + ".after", "is required, e.g. 30d (unless noncurrentAfter or expiredDeleteMarkers is given)")
                }
            }
            let place = try expire["where"].string(default: "local")
            guard let parsed = PolicySettings.ExpireWhere(rawValue: place) else {
                throw ConfigError(expire.path + ".where", "must be local, tiers or everywhere")
            }
            policy.expireWhere = parsed
            if parsed != .local && policy.replicateTo.isEmpty {
                throw ConfigError(expire.path + ".where", "expiring on tiers needs replicate.to to name them")
            }
        }
        policy.lock = try LockRetention.parse(node["lock"])
        let transition = node["transition"]
        if transition.isPresent {
            try transition.requireMapping()
            policy.transitionAfter = try transition["after"].duration(default: 0)
            guard (policy.transitionAfter ?? 0) > 0 else { throw ConfigError(transition.path + ".after", "is required, e.g. 7d") }
            guard !policy.replicateTo.isEmpty else {
                throw ConfigError(transition.path, "a transition needs replicate.to: the tiers that must hold the object first")
            }
        }
        return policy
    }
}

extension DepotConfiguration {
    /// Policies implied by the configuration beyond `policies:`: a Vault account's retention
    /// days expire what that account wrote, judged per object (not per bucket).
    public var effectivePolicies: [PolicySettings] {
        var all = policies
        for account in accounts {
            guard let vault = account.vault, vault.retentionDays > 0 else { continue }
            var policy = PolicySettings(name: "retention of account \(account.name)")
            policy.bucket = vault.bucket
            policy.account = account.accessKey
            policy.expireAfter = vault.retentionDays * 86400
            all.append(policy)
        }
        return all
    }
}

/// Reads a small text file (a key file named in the configuration).
func readWholeFile(_ path: String) -> String? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16384)
    while true {
        let n = fread(&buffer, 1, buffer.count, file)
        if n <= 0 { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}
