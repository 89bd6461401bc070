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
/// silently ignored: NoncurrentVersionTransition (older versions are not moved), more than one
/// Transition in a rule, NoncurrentVersionExpiration and ExpiredObjectDeleteMarker (retention
/// expires current objects only).
struct LifecycleConfiguration: Equatable, Sendable {
    struct Filter: Equatable, Sendable {
        /// How the rule named its filter, kept so GET returns the same shape.
        enum Form: Equatable, Sendable { case legacyPrefix, filter, and }
        var form: Form = .filter
        var prefix: String?
        var tags: [Tag] = []
        /// S3's bounds are strict: a size must be greater than / less than these.
        var sizeGreaterThan: UInt64?
        var sizeLessThan: UInt64?
    }

    struct Tag: Equatable, Sendable {
        var key: String
        var value: String
    }

    struct Rule: Equatable, Sendable {
        var id: String
        var enabled: Bool
        var filter: Filter
        var expirationDays: Int?
        /// Milliseconds since the epoch, at midnight UTC.
        var expirationDate: Int64?
        var abortUploadDays: Int?
        var transition: Transition?
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
        "NoncurrentVersionTransition": "Depot moves current objects to a storage class's tier, not older versions",
        "NoncurrentVersionExpiration": "Depot's retention does not expire noncurrent versions yet",
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
        var seen = Set<String>()
        for rule in rules where !seen.insert(rule.id).inserted {
            throw S3Error.invalidArgument("ID: rule ID must be unique. Found same ID for more than one rule: \(rule.id)")
        }
    }

    /// Values such as Status and Days without the whitespace of a pretty-printed document. Prefixes
    /// and tag keys and values are taken as they are: a space there is part of the name.
    private static func trimmed(_ element: XMLElement) -> String {
        String(element.text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    /// The one child named `name`, if any; two are malformed.
    private static func single(_ element: XMLElement, _ name: String) throws -> XMLElement? {
        let found = element.children(name)
        guard found.count <= 1 else { throw S3Error.malformedXML() }
        return found.first
    }

    private static func rule(_ element: XMLElement) throws -> Rule {
        let known: Set<String> = [
            "ID", "Filter", "Prefix", "Status", "Expiration", "AbortIncompleteMultipartUpload", "Transition",
            "NoncurrentVersionTransition", "NoncurrentVersionExpiration",
        ]
        for child in element.children where !known.contains(child.name) { throw S3Error.malformedXML() }
        for name in ["NoncurrentVersionTransition", "NoncurrentVersionExpiration"]
        where element.child(name) != nil {
            throw S3Error.notImplemented("the lifecycle rule element \(name) (\(unimplemented[name]!))")
        }
        var id = try single(element, "ID").map(trimmed) ?? ""
        guard id.count <= 255 else {
            throw S3Error.invalidArgument("ID: the ID of a lifecycle rule may be at most 255 characters long.")
        }
        if id.isEmpty { id = generatedID() }
        guard let status = try single(element, "Status").map(trimmed), status == "Enabled" || status == "Disabled"
        else { throw S3Error.malformedXML() }
        let filter = try self.filter(element)
        var rule = Rule(id: id, enabled: status == "Enabled", filter: filter)
        if let expiration = try single(element, "Expiration") {
            try parseExpiration(expiration, into: &rule)
        }
        let transitions = element.children("Transition")
        guard transitions.count <= 1 else {
            throw S3Error.notImplemented(
                "several Transition elements in one lifecycle rule (Depot moves an object once, to one storage class's tier)")
        }
        if let transition = transitions.first { rule.transition = try parseTransition(transition) }
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
        guard rule.expirationDays != nil || rule.expirationDate != nil || rule.abortUploadDays != nil || rule.transition != nil
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
            if value == "true" {
                throw S3Error.notImplemented(
                    "the lifecycle rule element Expiration.ExpiredObjectDeleteMarker (Depot's retention does not remove delete markers yet)"
                )
            }
        }
        let days = try single(expiration, "Days")
        let date = try single(expiration, "Date")
        guard days == nil || date == nil else {
            throw S3Error.invalidArgument("Expiration: only one of Days, Date and ExpiredObjectDeleteMarker may be given.")
        }
        if let days { rule.expirationDays = try positiveDays(days, field: "Expiration.Days") }
        if let date { rule.expirationDate = try midnight(trimmed(date), field: "Expiration.Date") }
        guard rule.expirationDays != nil || rule.expirationDate != nil || expiration.child("ExpiredObjectDeleteMarker") != nil
        else { throw S3Error.malformedXML() }
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

    private static func filter(_ rule: XMLElement) throws -> Filter {
        let legacy = try single(rule, "Prefix")
        let element = try single(rule, "Filter")
        switch (legacy, element) {
        case (let prefix?, nil):
            guard prefix.children.isEmpty else { throw S3Error.malformedXML() }
            return Filter(form: .legacyPrefix, prefix: prefix.text)
        case (nil, let element?):
            guard element.children.count <= 1 else { throw S3Error.malformedXML() }
            guard let only = element.children.first else { return Filter(form: .filter) }
            if only.name == "And" {
                var filter = Filter(form: .and)
                for part in only.children { try add(part, to: &filter, inAnd: true) }
                // An empty And is no filter S3 accepts.
                guard !only.children.isEmpty else { throw S3Error.malformedXML() }
                try checkSizes(filter)
                return filter
            }
            var filter = Filter(form: .filter)
            try add(only, to: &filter, inAnd: false)
            return filter
        default:
            // Neither (S3 needs one of them) or both.
            throw S3Error.malformedXML()
        }
    }

    private static func add(_ part: XMLElement, to filter: inout Filter, inAnd: Bool) throws {
        switch part.name {
        case "Prefix":
            guard filter.prefix == nil, part.children.isEmpty else { throw S3Error.malformedXML() }
            filter.prefix = part.text
        case "Tag":
            guard let key = try single(part, "Key").map(\.text), let value = try single(part, "Value").map(\.text),
                part.children.count == 2
            else { throw S3Error.malformedXML() }
            guard !key.isEmpty, key.count <= 128, value.count <= 256 else {
                throw S3Error.invalidArgument("Filter.Tag: a tag key is 1 to 128 characters, a value at most 256.")
            }
            guard !filter.tags.contains(where: { $0.key == key }) else {
                throw S3Error.invalidArgument("Filter.And.Tag: duplicate tag key \(key).")
            }
            filter.tags.append(Tag(key: key, value: value))
        case "ObjectSizeGreaterThan", "ObjectSizeLessThan":
            let text = trimmed(part)
            guard part.children.isEmpty, !text.isEmpty, text.utf8.count <= 19,
                text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) || text.hasPrefix("-"), let size = Int64(text)
            else { throw S3Error.malformedXML() }
            let field = (inAnd ? "Filter.And." : "Filter.") + part.name
            guard size >= 0 else { throw S3Error.invalidArgument("\(field): '\(text)' must not be negative.") }
            if part.name == "ObjectSizeGreaterThan" {
                guard filter.sizeGreaterThan == nil else { throw S3Error.malformedXML() }
                filter.sizeGreaterThan = UInt64(size)
            } else {
                guard filter.sizeLessThan == nil else { throw S3Error.malformedXML() }
                guard size > 0 else { throw S3Error.invalidArgument("\(field): '\(text)' must be greater than 0.") }
                filter.sizeLessThan = UInt64(size)
            }
        default:
            throw S3Error.malformedXML()
        }
    }

    private static func checkSizes(_ filter: Filter) throws {
        if let greater = filter.sizeGreaterThan, let less = filter.sizeLessThan, greater >= less {
            throw S3Error.invalidArgument(
                "Filter.And.ObjectSizeGreaterThan: \(greater) must be less than ObjectSizeLessThan (\(less)).")
        }
    }

    /// A rule ID for a rule that named none, as S3 makes one (random, 48 characters).
    private static func generatedID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        return String((0..<48).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }

    /// The GetBucketLifecycleConfiguration document, also what is stored.
    var document: XMLWriter {
        var xml = XMLWriter()
        xml.group("LifecycleConfiguration", namespace: true) { x in
            for rule in rules {
                x.group("Rule") { r in
                    r.element("ID", rule.id)
                    Self.write(rule.filter, to: &r)
                    r.element("Status", rule.enabled ? "Enabled" : "Disabled")
                    if rule.expirationDays != nil || rule.expirationDate != nil {
                        r.group("Expiration") { e in
                            if let days = rule.expirationDays { e.element("Days", days) }
                            if let date = rule.expirationDate { e.element("Date", Self.isoDate(date)) }
                        }
                    }
                    if let transition = rule.transition {
                        r.group("Transition") { t in
                            if let days = transition.days { t.element("Days", days) }
                            if let date = transition.date { t.element("Date", Self.isoDate(date)) }
                            t.element("StorageClass", transition.storageClass)
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

    private static func write(_ filter: Filter, to r: inout XMLWriter) {
        func parts(_ p: inout XMLWriter) {
            if let prefix = filter.prefix { p.element("Prefix", prefix) }
            for tag in filter.tags {
                p.group("Tag") { t in
                    t.element("Key", tag.key)
                    t.element("Value", tag.value)
                }
            }
            if let size = filter.sizeGreaterThan { p.element("ObjectSizeGreaterThan", String(size)) }
            if let size = filter.sizeLessThan { p.element("ObjectSizeLessThan", String(size)) }
        }
        switch filter.form {
        case .legacyPrefix: r.element("Prefix", filter.prefix ?? "")
        case .filter: r.group("Filter") { f in parts(&f) }
        case .and: r.group("Filter") { f in f.group("And") { a in parts(&a) } }
        }
    }

    /// `2030-01-01T00:00:00.000Z`, as S3 returns a rule's date.
    static func isoDate(_ milliseconds: Int64) -> String {
        iso8601(milliseconds: milliseconds)
    }
}
