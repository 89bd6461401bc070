import DepotEngine

/// S3's event names (`s3:ObjectCreated:Put`, ...): the one mapping from Depot's events to them, and
/// the names a bucket notification configuration may ask for.
public enum S3EventName {
    /// The S3 name of an event Depot raised. Depot's replication and transition events follow
    /// S3's (and MinIO's) names.
    public static func of(_ event: EventRecord) -> String {
        switch event.kind {
        case .created: return "s3:ObjectCreated:" + event.operation
        case .removed:
            switch event.operation {
            case "Expired": return "s3:LifecycleExpiration:Delete"
            case "DeleteMarkerCreated": return "s3:ObjectRemoved:DeleteMarkerCreated"
            case "ExpiredDeleteMarkerCreated": return "s3:LifecycleExpiration:DeleteMarkerCreated"
            default: return "s3:ObjectRemoved:Delete"
            }
        case .replicated: return "s3:Replication:OperationCompletedReplication"
        case .replicationFailed: return "s3:Replication:OperationFailedReplication"
        case .transitioned: return "s3:LifecycleTransition"
        }
    }

    /// Every name a configuration may hold: AWS's list and MinIO's additions (what `mc event add`
    /// sends: `get` is `s3:ObjectAccessed:*`). Names Depot never raises (restores, tagging, ACL and
    /// access events) are accepted, as tools send them, and simply never match.
    static let known: Set<String> = [
        "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectCreated:PutRetention", "s3:ObjectCreated:PutLegalHold",
        "s3:ObjectCreated:PutTagging", "s3:ObjectCreated:DeleteTagging",
        "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated", "s3:ObjectRemoved:NoOP",
        "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated", "s3:LifecycleTransition",
        "s3:Replication:OperationCompletedReplication", "s3:Replication:OperationFailedReplication",
        "s3:Replication:OperationMissedThreshold", "s3:Replication:OperationReplicatedAfterThreshold",
        "s3:Replication:OperationNotTracked",
        "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete",
        "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete", "s3:ObjectAcl:Put",
        "s3:ObjectAccessed:Get", "s3:ObjectAccessed:Head", "s3:ObjectAccessed:GetRetention",
        "s3:ObjectAccessed:GetLegalHold", "s3:ReducedRedundancyLostObject", "s3:IntelligentTiering",
    ]

    /// Whether a configuration may name `pattern`: a known name, or `<category>:*` of a category
    /// that has names (`s3:ObjectCreated:*`). No other wildcard is S3's.
    public static func isKnown(_ pattern: String) -> Bool {
        if known.contains(pattern) { return true }
        guard pattern.hasSuffix(":*") else { return false }
        // `s3:<Category>:` exactly: `s3:*` is no wildcard S3 takes.
        let category = pattern.dropLast(1)
        guard category.hasPrefix("s3:"), category.filter({ $0 == ":" }).count == 2 else { return false }
        return known.contains { $0.hasPrefix(category) }
    }

    /// Whether the event name `name` is one `pattern` asks for.
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        pattern.hasSuffix(":*") ? name.hasPrefix(pattern.dropLast(1)) : name == pattern
    }

    /// The kinds of Depot event that can carry a name `pattern` matches: what the outbox must
    /// record for it.
    static func kinds(of pattern: String) -> Set<EventRecord.Kind> {
        let categories: [(String, Set<EventRecord.Kind>)] = [
            ("s3:ObjectCreated:", [.created]), ("s3:ObjectRemoved:", [.removed]),
            ("s3:LifecycleExpiration:", [.removed]), ("s3:Replication:", [.replicated, .replicationFailed]),
            ("s3:LifecycleTransition", [.transitioned]),
        ]
        return categories.reduce(into: []) { kinds, entry in
            if pattern.hasPrefix(entry.0) { kinds.formUnion(entry.1) }
        }
    }
}

/// One entry of a bucket's notification configuration (PutBucketNotificationConfiguration),
/// resolved to the sink its ARN names: the bucket's events that match go to that sink.
public struct BucketNotificationRule: Sendable, Equatable {
    /// The configuration's `Id`: the `s3.configurationId` of what it delivers.
    public var id: String
    public var sink: String
    /// Event names and `<category>:*` patterns (S3EventName).
    public var events: [String]
    public var prefix: String
    public var suffix: String

    public init(id: String, sink: String, events: [String], prefix: String = "", suffix: String = "") {
        self.id = id
        self.sink = sink
        self.events = events
        self.prefix = prefix
        self.suffix = suffix
    }

    public func matches(eventName: String, key: String) -> Bool {
        key.hasPrefix(prefix) && key.hasSuffix(suffix) && events.contains { S3EventName.matches($0, eventName) }
    }
}

extension SinkSettings {
    /// The ARN a bucket notification configuration names this sink by, in MinIO's form
    /// (`arn:minio:sqs::<id>:<type>`, MinIO names every target `sqs`): the sink's name is the id,
    /// its type the last part. `depot events status` prints it for the admin to copy.
    public var arn: String { "arn:minio:sqs::\(name):\(kind.rawValue)" }
}

extension EventSettings {
    /// The sink an ARN names: `arn:minio:sqs:<region>:<sink name>:<sink type>`, the region empty
    /// (as `depot events status` prints it) or the server's. nil: no configured sink.
    public func sink(arn: String, region: String) -> SinkSettings? {
        let parts = arn.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "arn", parts[1] == "minio", parts[2] == "sqs",
            parts[3].isEmpty || parts[3] == region, let typeStart = parts[4].lastIndex(of: ":")
        else { return nil }
        let name = String(parts[4][..<typeStart])
        let type = String(parts[4][parts[4].index(after: typeStart)...])
        return sinks.first { $0.name == name && $0.kind.rawValue == type }
    }

    /// The kinds the outbox must record: those of the sinks' own matches, and those the bucket
    /// notification rules ask for.
    public var recordedKinds: Set<EventRecord.Kind> {
        var kinds = sinks.filter { !$0.bucketNotificationsOnly }.reduce(into: Set<EventRecord.Kind>()) {
            $0.formUnion($1.kinds)
        }
        for rules in bucketRules.values {
            for rule in rules { for pattern in rule.events { kinds.formUnion(S3EventName.kinds(of: pattern)) } }
        }
        return kinds
    }
}

/// THE RULE joining a sink's own match and the buckets' notification configurations (README
/// "Bucket notifications"): a sink delivers an event when its own `match` wants it OR a
/// notification configuration of the event's bucket naming the sink matches it, and then once,
/// however many of them match. Its `s3.configurationId` is the first matching configuration's Id,
/// else the sink's name. Built once per sink and configuration (the rules are parsed when the
/// configuration is built, not per event).
public struct SinkRoutes: Sendable {
    public let sink: SinkSettings
    /// This sink's rules, by bucket.
    let rulesByBucket: [String: [BucketNotificationRule]]

    public init(sink: SinkSettings, settings: EventSettings) {
        self.sink = sink
        var byBucket: [String: [BucketNotificationRule]] = [:]
        for (bucket, rules) in settings.bucketRules {
            let mine = rules.filter { $0.sink == sink.name }
            if !mine.isEmpty { byBucket[bucket] = mine }
        }
        rulesByBucket = byBucket
    }

    /// How many bucket notification configurations name this sink.
    public var ruleCount: Int { rulesByBucket.values.reduce(0) { $0 + $1.count } }

    /// The `configurationId` to deliver `event` with; nil: this sink does not deliver it.
    public func configurationId(for event: EventRecord) -> String? {
        if let rules = rulesByBucket[event.bucket] {
            let name = S3EventName.of(event)
            if let rule = rules.first(where: { $0.matches(eventName: name, key: event.key) }) { return rule.id }
        }
        return sink.wants(event) ? sink.name : nil
    }
}
