import DepotConfig

/// The objects an S3 bucket rule applies to (a lifecycle or a replication rule): the rule's
/// legacy top-level `Prefix`, or its `Filter` of one Prefix, Tag or (lifecycle only) object size,
/// or an `And` of several. Parsed as S3 validates it, written back in the shape it was given, and
/// put into a Depot policy's match.
struct RuleFilter: Equatable, Sendable {
    /// How the rule named its filter, kept so GET returns the same shape.
    enum Form: Equatable, Sendable { case legacyPrefix, filter, and }

    struct Tag: Equatable, Sendable {
        var key: String
        var value: String
    }

    var form: Form = .filter
    var prefix: String?
    var tags: [Tag] = []
    /// S3's bounds are strict: a size must be greater than / less than these.
    var sizeGreaterThan: UInt64?
    var sizeLessThan: UInt64?

    /// The filter of `rule`: exactly one of a top-level Prefix and a Filter. `sizes`: whether
    /// ObjectSizeGreaterThan/LessThan are part of this rule kind's schema (lifecycle, not
    /// replication); where they are not, they are malformed.
    static func parse(rule: XMLElement, sizes: Bool) throws -> RuleFilter {
        let legacy = try RuleXML.single(rule, "Prefix")
        let element = try RuleXML.single(rule, "Filter")
        switch (legacy, element) {
        case (let prefix?, nil):
            guard prefix.children.isEmpty else { throw S3Error.malformedXML() }
            return RuleFilter(form: .legacyPrefix, prefix: prefix.text)
        case (nil, let element?):
            guard element.children.count <= 1 else { throw S3Error.malformedXML() }
            guard let only = element.children.first else { return RuleFilter(form: .filter) }
            if only.name == "And" {
                var filter = RuleFilter(form: .and)
                for part in only.children { try filter.add(part, inAnd: true, sizes: sizes) }
                // An empty And is no filter S3 accepts.
                guard !only.children.isEmpty else { throw S3Error.malformedXML() }
                try filter.checkSizes()
                return filter
            }
            var filter = RuleFilter(form: .filter)
            try filter.add(only, inAnd: false, sizes: sizes)
            return filter
        default:
            // Neither (S3 needs one of them) or both.
            throw S3Error.malformedXML()
        }
    }

    private mutating func add(_ part: XMLElement, inAnd: Bool, sizes: Bool) throws {
        switch part.name {
        case "Prefix":
            guard prefix == nil, part.children.isEmpty else { throw S3Error.malformedXML() }
            prefix = part.text
        case "Tag":
            guard let key = try RuleXML.single(part, "Key").map(\.text),
                let value = try RuleXML.single(part, "Value").map(\.text), part.children.count == 2
            else { throw S3Error.malformedXML() }
            guard !key.isEmpty, key.count <= 128, value.count <= 256 else {
                throw S3Error.invalidArgument("Filter.Tag: a tag key is 1 to 128 characters, a value at most 256.")
            }
            guard !tags.contains(where: { $0.key == key }) else {
                throw S3Error.invalidArgument("Filter.And.Tag: duplicate tag key \(key).")
            }
            tags.append(Tag(key: key, value: value))
        case "ObjectSizeGreaterThan" where sizes, "ObjectSizeLessThan" where sizes:
            let text = RuleXML.trimmed(part)
            guard part.children.isEmpty, !text.isEmpty, text.utf8.count <= 19,
                text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) || text.hasPrefix("-"), let size = Int64(text)
            else { throw S3Error.malformedXML() }
            let field = (inAnd ? "Filter.And." : "Filter.") + part.name
            guard size >= 0 else { throw S3Error.invalidArgument("\(field): '\(text)' must not be negative.") }
            if part.name == "ObjectSizeGreaterThan" {
                guard sizeGreaterThan == nil else { throw S3Error.malformedXML() }
                sizeGreaterThan = UInt64(size)
            } else {
                guard sizeLessThan == nil else { throw S3Error.malformedXML() }
                guard size > 0 else { throw S3Error.invalidArgument("\(field): '\(text)' must be greater than 0.") }
                sizeLessThan = UInt64(size)
            }
        default:
            throw S3Error.malformedXML()
        }
    }

    private func checkSizes() throws {
        if let greater = sizeGreaterThan, let less = sizeLessThan, greater >= less {
            throw S3Error.invalidArgument(
                "Filter.And.ObjectSizeGreaterThan: \(greater) must be less than ObjectSizeLessThan (\(less)).")
        }
    }

    /// Writes the filter into a rule, in the form it was given.
    func write(to r: inout XMLWriter) {
        func parts(_ p: inout XMLWriter) {
            if let prefix { p.element("Prefix", prefix) }
            for tag in tags {
                p.group("Tag") { t in
                    t.element("Key", tag.key)
                    t.element("Value", tag.value)
                }
            }
            if let size = sizeGreaterThan { p.element("ObjectSizeGreaterThan", String(size)) }
            if let size = sizeLessThan { p.element("ObjectSizeLessThan", String(size)) }
        }
        switch form {
        case .legacyPrefix: r.element("Prefix", prefix ?? "")
        case .filter: r.group("Filter") { f in parts(&f) }
        case .and: r.group("Filter") { f in f.group("And") { a in parts(&a) } }
        }
    }

    /// Makes a policy of `bucket` match what the filter matches.
    func apply(to policy: inout PolicySettings, bucket: String) {
        policy.bucket = bucket
        policy.prefix = prefix ?? ""
        for tag in tags { policy.tags[tag.key] = tag.value }
        // S3's bounds are strict, the policy's inclusive.
        if let greater = sizeGreaterThan { policy.minimumSize = Int(clamping: greater + 1) }
        if let less = sizeLessThan { policy.maximumSize = Int(clamping: less - 1) }
    }
}
