/// A bucket's S3 replication configuration (PutBucketReplication): rules that copy new objects
/// to a destination, here one of Depot's tiers. Parsed and validated here as S3 validates it;
/// stored as the canonical XML that GetBucketReplication returns (the bucket document
/// "replication"). Each enabled rule is carried out as a Depot replicate policy
/// (ReplicationPolicies.swift), by the same tiering service as the configuration file's policies.
///
/// The destination names a tier (ReplicationDestination.swift). `Role` is accepted, kept and
/// returned, and otherwise ignored: Depot writes to a tier with the tier's own credentials.
/// `StorageClass` is checked and kept, not applied: the tier's own settings decide how it stores.
/// What Depot cannot carry out is refused with 501 naming the element rather than stored and
/// silently ignored (ExistingObjectReplication Enabled, SourceSelectionCriteria, and the
/// destination's AccessControlTranslation, EncryptionConfiguration, ReplicationTime and Metrics).
struct ReplicationConfiguration: Equatable, Sendable {
    struct Rule: Equatable, Sendable {
        var id: String
        /// As given; S3 takes a rule without one as priority 0.
        var priority: Int?
        var enabled: Bool
        var filter: RuleFilter
        /// `DeleteMarkerReplication/Status`; nil when the rule has none (a V1 rule, whose delete
        /// markers S3 replicates).
        var deleteMarkerReplication: Bool?
        /// `ExistingObjectReplication/Status` Disabled when given (Enabled is refused).
        var existingObjectReplicationDisabled = false
        /// The destination's `Bucket` ARN, as given.
        var destination: String
        var storageClass: String?
        var account: String?

        /// V1 rules (the legacy top-level Prefix) have neither Filter nor Priority.
        var isV1: Bool { filter.form == .legacyPrefix }
        /// Whether a delete marker made in the bucket removes the destination's copy.
        var replicatesDeleteMarkers: Bool { deleteMarkerReplication ?? isV1 }
        /// The rank among rules to the same destination: higher first.
        var effectivePriority: Int { priority ?? 0 }
    }

    var role: String
    var rules: [Rule]

    /// The bucket document that holds it.
    static let documentName = "replication"
    static let maximumRules = 1000
    static let maximumBytes = 1 << 20
    /// Amazon S3's storage classes a replica may be given.
    static let storageClasses: Set<String> = [
        "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE",
        "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE",
    ]
    /// Elements of S3's schema that Depot refuses with 501, and why.
    static let unimplemented: [String: String] = [
        "SourceSelectionCriteria": "Depot replicates every matching object, encrypted or not, and has no replicas of its own",
        "AccessControlTranslation": "a tier's objects belong to the tier's account",
        "EncryptionConfiguration": "a tier's copies are encrypted by the tier's own settings",
        "ReplicationTime": "Depot has no replication time control",
        "Metrics": "replication metrics are Depot's own (depot tier status, /metrics)",
    ]

    init(role: String, rules: [Rule]) {
        self.role = role
        self.rules = rules
    }

    /// Parses and validates a PutBucketReplication body; the first problem is thrown as S3's
    /// error. Whether each destination is a configured tier is checked apart
    /// (`ReplicationDestination.resolve`), as a stored document is read without the tiers.
    init(xml bytes: [UInt8]) throws {
        let root = try XMLElement.parse(bytes)
        guard root.name == "ReplicationConfiguration",
            root.children.allSatisfy({ $0.name == "Rule" || $0.name == "Role" })
        else { throw S3Error.malformedXML() }
        let ruleElements = root.children("Rule")
        guard !ruleElements.isEmpty else { throw S3Error.malformedXML() }
        guard ruleElements.count <= Self.maximumRules else {
            throw S3Error.invalidArgument(
                "Rule: a replication configuration may hold at most \(Self.maximumRules) rules, this one has \(ruleElements.count)."
            )
        }
        role = try RuleXML.single(root, "Role").map(RuleXML.trimmed) ?? ""
        rules = try ruleElements.map(Self.rule)
        try RuleXML.requireUniqueIDs(rules.map(\.id))
        guard rules.allSatisfy(\.isV1) || !rules.contains(where: \.isV1) else {
            throw S3Error.invalidRequest(
                "Rule.Prefix: the rules mix the legacy Prefix form with Filter; use Filter (with Priority) in every rule.")
        }
    }

    private static func rule(_ element: XMLElement) throws -> Rule {
        let known: Set<String> = [
            "ID", "Priority", "Prefix", "Filter", "Status", "SourceSelectionCriteria", "ExistingObjectReplication",
            "Destination", "DeleteMarkerReplication",
        ]
        for child in element.children where !known.contains(child.name) { throw S3Error.malformedXML() }
        if element.child("SourceSelectionCriteria") != nil { throw unimplementedElement("SourceSelectionCriteria") }
        let id = try RuleXML.ruleID(element, kind: "replication")
        let enabled = try RuleXML.isEnabled(element)
        let filter = try RuleFilter.parse(rule: element, sizes: false)
        guard let destination = try RuleXML.single(element, "Destination") else { throw S3Error.malformedXML() }
        var rule = Rule(id: id, enabled: enabled, filter: filter, destination: "")
        try parseDestination(destination, into: &rule)
        if let priority = try RuleXML.single(element, "Priority") {
            rule.priority = try parsePriority(priority)
        }
        if let marker = try RuleXML.single(element, "DeleteMarkerReplication") {
            guard marker.children.count == 1 else { throw S3Error.malformedXML() }
            rule.deleteMarkerReplication = try RuleXML.isEnabled(marker)
        }
        if let existing = try RuleXML.single(element, "ExistingObjectReplication") {
            guard existing.children.count == 1 else { throw S3Error.malformedXML() }
            guard try !RuleXML.isEnabled(existing) else {
                throw S3Error.notImplemented(
                    "the replication rule element ExistingObjectReplication Enabled (Depot replicates objects written after the rule; `depot replicate BUCKET --policy s3-replication:BUCKET:RULE --existing --tier TIER` sends older ones)"
                )
            }
            rule.existingObjectReplicationDisabled = true
        }
        if rule.isV1 {
            guard rule.priority == nil else {
                throw S3Error.invalidRequest(
                    "Priority: a rule with the legacy Prefix form takes no Priority; use Filter (rule \(id)).")
            }
        } else {
            // S3's V2 schema (a rule with Filter) says what it does with delete markers.
            guard rule.deleteMarkerReplication != nil else {
                throw S3Error.invalidRequest(
                    "DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema (rule \(id))."
                )
            }
        }
        if rule.replicatesDeleteMarkers && !filter.tags.isEmpty {
            throw S3Error.invalidRequest(
                "Delete marker replication is not supported if any Tag filter is specified (rule \(id)): a delete marker has no tags."
            )
        }
        return rule
    }

    private static func parseDestination(_ destination: XMLElement, into rule: inout Rule) throws {
        let known: Set<String> = [
            "Bucket", "StorageClass", "Account", "AccessControlTranslation", "EncryptionConfiguration", "ReplicationTime",
            "Metrics",
        ]
        for child in destination.children {
            guard known.contains(child.name) else { throw S3Error.malformedXML() }
            if unimplemented[child.name] != nil { throw unimplementedElement("Destination." + child.name) }
        }
        guard let bucket = try RuleXML.single(destination, "Bucket").map(RuleXML.trimmed), !bucket.isEmpty else {
            throw S3Error.malformedXML()
        }
        rule.destination = bucket
        if let storageClass = try RuleXML.single(destination, "StorageClass").map(RuleXML.trimmed) {
            guard storageClasses.contains(storageClass) else {
                throw S3Error(
                    "InvalidStorageClass", .badRequest,
                    "Destination.StorageClass: '\(storageClass)' is not a valid storage class (rule \(rule.id)).")
            }
            rule.storageClass = storageClass
        }
        rule.account = try RuleXML.single(destination, "Account").map(RuleXML.trimmed)
    }

    private static func parsePriority(_ element: XMLElement) throws -> Int {
        let text = RuleXML.trimmed(element)
        guard element.children.isEmpty, !text.isEmpty, text.utf8.count <= 11,
            text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) || text.hasPrefix("-"), let priority = Int(text)
        else { throw S3Error.malformedXML() }
        guard priority >= 0, priority <= Int(Int32.max) else {
            throw S3Error.invalidArgument("Priority: '\(text)' must be a non-negative integer.")
        }
        return priority
    }

    private static func unimplementedElement(_ name: String) -> S3Error {
        let reason = unimplemented[String(name.split(separator: ".").last ?? "")] ?? ""
        return S3Error.notImplemented("the replication rule element \(name) (\(reason))")
    }

    /// The GetBucketReplication document, also what is stored.
    var document: XMLWriter {
        var xml = XMLWriter()
        xml.group("ReplicationConfiguration", namespace: true) { x in
            // Always present: clients (minio-py) require it in the answer.
            x.element("Role", role)
            for rule in rules {
                x.group("Rule") { r in
                    r.element("ID", rule.id)
                    if let priority = rule.priority { r.element("Priority", priority) }
                    rule.filter.write(to: &r)
                    r.element("Status", rule.enabled ? "Enabled" : "Disabled")
                    if rule.existingObjectReplicationDisabled {
                        r.group("ExistingObjectReplication") { e in e.element("Status", "Disabled") }
                    }
                    r.group("Destination") { d in
                        d.element("Bucket", rule.destination)
                        if let account = rule.account { d.element("Account", account) }
                        if let storageClass = rule.storageClass { d.element("StorageClass", storageClass) }
                    }
                    if let marker = rule.deleteMarkerReplication {
                        r.group("DeleteMarkerReplication") { m in m.element("Status", marker ? "Enabled" : "Disabled") }
                    }
                }
            }
        }
        return xml
    }
}
