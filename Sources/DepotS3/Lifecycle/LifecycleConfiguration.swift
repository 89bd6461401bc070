import DepotStorage

/// A bucket's S3 lifecycle configuration (PutBucketLifecycleConfiguration): rules that expire
/// objects and abort stale multipart uploads. Parsed and validated here as S3 validates it; stored
/// as the canonical XML that GetBucketLifecycleConfiguration returns (the bucket document
/// "lifecycle"). Each enabled rule is carried out as a Depot policy (LifecyclePolicies.swift), by
/// the same retention pass as the configuration file's policies.
///
/// A Transition names a storage class, and so the tier that declares it (StorageClasses.swift):
/// the rule's policy moves matching objects there once they are old enough.
///
/// What Depot cannot carry out is refused with 501 naming the element, rather than stored and
/// silently ignored: NoncurrentVersionTransition (older versions are not moved) and more than one
/// Transition in a rule. NoncurrentVersionExpiration and ExpiredObjectDeleteMarker expire
/// versions of versioned buckets (PolicyVersionExpiry.swift).
struct LifecycleConfiguration: Equatable, Sendable {
    /// The rule's Filter, parsed and written as every bucket rule's (BucketRules/RuleFilter.swift).
    typealias Filter = RuleFilter
    typealias Tag = RuleFilter.Tag

    struct Rule: Equatable, Sendable {
        var id: String
        var enabled: Bool
        var filter: Filter
        var expirationDays: Int?
        /// Milliseconds since the epoch, at midnight UTC.
        var expirationDate: Int64?
        var abortUploadDays: Int?
        var transition: Transition?
        /// NoncurrentVersionExpiration: NoncurrentDays and NewerNoncurrentVersions.
        var noncurrentDays: Int?
        var newerNoncurrentVersions: Int?
        /// Expiration/ExpiredObjectDeleteMarker true.
        var expiredObjectDeleteMarker = false
    }

    /// A rule's move to a storage class (a tier), by age or on a date.
    struct Transition: Equatable, Sendable {
        var days: Int?
        /// Milliseconds since the epoch, at midnight UTC.
        var date: Int64?
        var storageClass: String
    }

    var rules: [Rule]

    /// The bucket document that holds it.
    static let documentName = "lifecycle"
    static let maximumRules = 1000
    static let maximumBytes = 256 << 10
    /// Elements of S3's schema that Depot refuses with 501, and why.
    static let unimplemented: [String: String] = [
        "NoncurrentVersionTransition": "Depot moves current objects to a storage class's tier, not older versions"
    ]

    init(rules: [Rule]) { self.rules = rules }

    /// Parses and validates a PutBucketLifecycleConfiguration body; the first problem is thrown
    /// as S3's error. A rule without an ID gets a generated one, as S3 gives it.
    init(xml bytes: [UInt8]) throws {
        let root = try XMLElement.parse(bytes)
        guard root.name == "LifecycleConfiguration", !root.children.isEmpty,
            root.children.allSatisfy({ $0.name == "Rule" })
        else { throw S3Error.malformedXML() }
        guard root.children.count <= Self.maximumRules else {
            throw S3Error.invalidArgument(
                "Rule: a lifecycle configuration may hold at most \(Self.maximumRules) rules, this one has \(root.children.count)."
            )
        }
        rules = try root.children.map(Self.rule)
        try RuleXML.requireUniqueIDs(rules.map(\.id))
    }

    private static func trimmed(_ element: XMLElement) -> String { RuleXML.trimmed(element) }

    private static func single(_ element: XMLElement, _ name: String) throws -> XMLElement? {
        try RuleXML.single(element, name)
    }

    private static func rule(_ element: XMLElement) throws -> Rule {
        let known: Set<String> = [
            "ID", "Filter", "Prefix", "Status", "Expiration", "AbortIncompleteMultipartUpload", "Transition",
            "NoncurrentVersionTransition", "NoncurrentVersionExpiration",
        ]
        for child in element.children where !known.contains(child.name) { throw S3Error.malformedXML() }
        for name in ["NoncurrentVersionTransition"] where element.child(name) != nil {
            throw S3Error.notImplemented("the lifecycle rule element \(name) (\(unimplemented[name]!))")
        }
        let id = try RuleXML.ruleID(element, kind: "lifecycle")
        let enabled = try RuleXML.isEnabled(element)
        let filter = try RuleFilter.parse(rule: element, sizes: true)
        var rule = Rule(id: id, enabled: enabled, filter: filter)
        if let expiration = try single(element, "Expiration") {
            try parseExpiration(expiration, into: &rule)
        }
        let transitions = element.children("Transition")
        guard transitions.count <= 1 else {
            throw S3Error.notImplemented(
                "several Transition elements in one lifecycle rule (Depot moves an object once, to one storage class's tier)")
        }
        if let transition = transitions.first { rule.transition = try parseTransition(transition) }
        if let noncurrent = try single(element, "NoncurrentVersionExpiration") {
            try parseNoncurrentExpiration(noncurrent, into: &rule)
        }
        if let abort = try single(element, "AbortIncompleteMultipartUpload") {
            guard abort.children.count == 1, let days = try single(abort, "DaysAfterInitiation") else {
                throw S3Error.malformedXML()
            }
            rule.abortUploadDays = try positiveDays(days, field: "AbortIncompleteMultipartUpload.DaysAfterInitiation")
            guard filter.tags.isEmpty else {
                throw S3Error.invalidArgument(
                    "AbortIncompleteMultipartUpload: it cannot be specified with Tags (uploads have no tags yet).")
            }
        }
        guard
            rule.expirationDays != nil || rule.expirationDate != nil || rule.abortUploadDays != nil || rule.transition != nil
                || rule.noncurrentDays != nil || rule.expiredObjectDeleteMarker
        else {
            throw S3Error.invalidRequest("At least one action needs to be specified in a rule (rule \(id)).")
        }
        return rule
    }

    private static func parseExpiration(_ expiration: XMLElement, into rule: inout Rule) throws {
        for child in expiration.children where !["Days", "Date", "ExpiredObjectDeleteMarker"].contains(child.name) {
            throw S3Error.malformedXML()
        }
        if let marker = try single(expiration, "ExpiredObjectDeleteMarker") {
            let value = trimmed(marker)
            guard value == "true" || value == "false" else { throw S3Error.malformedXML() }
            rule.expiredObjectDeleteMarker = value == "true"
            guard !rule.expiredObjectDeleteMarker || rule.filter.tags.isEmpty else {
                throw S3Error.invalidArgument(
                    "ExpiredObjectDeleteMarker: it cannot be specified with Tags (delete markers have no tags).")
            }
        }
        let days = try single(expiration, "Days")
        let date = try single(expiration, "Date")
        guard days == nil || date == nil, !rule.expiredObjectDeleteMarker || (days == nil && date == nil) else {
            throw S3Error.invalidArgument("Expiration: only one of Days, Date and ExpiredObjectDeleteMarker may be given.")
        }
        if let days { rule.expirationDays = try positiveDays(days, field: "Expiration.Days") }
        if let date { rule.expirationDate = try midnight(trimmed(date), field: "Expiration.Date") }
        guard rule.expirationDays != nil || rule.expirationDate != nil || expiration.child("ExpiredObjectDeleteMarker") != nil
        else { throw S3Error.malformedXML() }
    }

    /// `<NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays>
    /// <NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>`.
    private static func parseNoncurrentExpiration(_ element: XMLElement, into rule: inout Rule) throws {
        for child in element.children where !["NoncurrentDays", "NewerNoncurrentVersions"].contains(child.name) {
            throw S3Error.malformedXML()
        }
        guard let days = try single(element, "NoncurrentDays") else { throw S3Error.malformedXML() }
        rule.noncurrentDays = try positiveDays(days, field: "NoncurrentVersionExpiration.NoncurrentDays")
        if let newer = try single(element, "NewerNoncurrentVersions") {
            let text = trimmed(newer)
            guard !text.isEmpty, text.utf8.count <= 10, let value = Int(text) else { throw S3Error.malformedXML() }
            // S3 keeps at most 100 newer noncurrent versions.
            guard (1...100).contains(value) else {
                throw S3Error.invalidArgument(
                    "NoncurrentVersionExpiration.NewerNoncurrentVersions: '\(text)' must be from 1 to 100.")
            }
            rule.newerNoncurrentVersions = value
        }
    }

    /// `<Transition><Days>30</Days><StorageClass>GLACIER_IR</StorageClass></Transition>` (or `Date`):
    /// the class is checked against the declared ones when the configuration is put.
    private static func parseTransition(_ transition: XMLElement) throws -> Transition {
        for child in transition.children where !["Days", "Date", "StorageClass"].contains(child.name) {
            throw S3Error.malformedXML()
        }
        guard let storageClass = try single(transition, "StorageClass").map(trimmed), !storageClass.isEmpty else {
            throw S3Error.malformedXML()
        }
        let days = try single(transition, "Days")
        let date = try single(transition, "Date")
        var result = Transition(storageClass: storageClass)
        switch (days, date) {
        case (let days?, nil):
            // Zero is allowed for a transition (S3 moves such objects at the next midnight).
            let text = trimmed(days)
            guard !text.isEmpty, text.utf8.count <= 10, let value = Int(text) else { throw S3Error.malformedXML() }
            guard value >= 0, value <= Int(Int32.max) else {
                throw S3Error.invalidArgument("Transition.Days: '\(text)' must not be negative.")
            }
            result.days = value
        case (nil, let date?):
            result.date = try midnight(trimmed(date), field: "Transition.Date")
        default:
            // Neither, or both.
            throw S3Error.malformedXML()
        }
        return result
    }

    private static func positiveDays(_ element: XMLElement, field: String) throws -> Int {
        let text = trimmed(element)
        guard !text.isEmpty, text.utf8.count <= 10, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) || text.hasPrefix("-"),
            let days = Int(text)
        else { throw S3Error.malformedXML() }
        guard days > 0, days <= Int(Int32.max) else {
            throw S3Error.invalidArgument("\(field): '\(text)' must be a positive integer.")
        }
        return days
    }

    /// An ISO 8601 date at midnight UTC (`2030-01-01T00:00:00Z`, `…00:00:00.000Z`, `…+00:00`),
    /// in milliseconds since the epoch.
    static func midnight(_ text: String, field: String) throws -> Int64 {
        let invalid = S3Error.invalidArgument("\(field): '\(text)' must be an ISO 8601 date at midnight UTC.")
        let u = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= u.count, u[range].allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            return Int(String(decoding: u[range], as: UTF8.self))
        }
        guard u.count >= 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"), let year = number(0..<4),
            let month = number(5..<7), let day = number(8..<10), (1...12).contains(month), (1...31).contains(day)
        else { throw invalid }
        if u.count > 10 {
            let time = String(decoding: u[10...], as: UTF8.self)
            let midnights = ["T00:00:00Z", "T00:00:00.000Z", "T00:00:00+00:00", "T00:00:00.000+00:00"]
            guard midnights.contains(time) else {
                throw S3Error.invalidArgument("\(field): '\(text)' must be at midnight UTC.")
            }
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        return days * 86_400_000
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The GetBucketLifecycleConfiguration document, also what is stored.
    var document: XMLWriter {
        var xml = XMLWriter()
        xml.group("LifecycleConfiguration", namespace: true) { x in
            for rule in rules {
                x.group("Rule") { r in
                    r.element("ID", rule.id)
                    rule.filter.write(to: &r)
                    r.element("Status", rule.enabled ? "Enabled" : "Disabled")
                    if rule.expirationDays != nil || rule.expirationDate != nil || rule.expiredObjectDeleteMarker {
                        r.group("Expiration") { e in
                            if let days = rule.expirationDays { e.element("Days", days) }
                            if let date = rule.expirationDate { e.element("Date", Self.isoDate(date)) }
                            if rule.expiredObjectDeleteMarker { e.element("ExpiredObjectDeleteMarker", "true") }
                        }
                    }
                    if let transition = rule.transition {
                        r.group("Transition") { t in
                            if let days = transition.days { t.element("Days", days) }
                            if let date = transition.date { t.element("Date", Self.isoDate(date)) }
                            t.element("StorageClass", transition.storageClass)
                        }
                    }
                    if let days = rule.noncurrentDays {
                        r.group("NoncurrentVersionExpiration") { n in
                            n.element("NoncurrentDays", days)
                            if let newer = rule.newerNoncurrentVersions { n.element("NewerNoncurrentVersions", newer) }
                        }
                    }
                    if let days = rule.abortUploadDays {
                        r.group("AbortIncompleteMultipartUpload") { a in a.element("DaysAfterInitiation", days) }
                    }
                }
            }
        }
        return xml
    }

    /// `2030-01-01T00:00:00.000Z`, as S3 returns a rule's date.
    static func isoDate(_ milliseconds: Int64) -> String {
        iso8601(milliseconds: milliseconds)
    }
}
