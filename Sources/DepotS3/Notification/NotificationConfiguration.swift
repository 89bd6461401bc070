import DepotConfig

/// A bucket's S3 notification configuration (PutBucketNotificationConfiguration): which of the
/// bucket's events go to which of Depot's configured sinks. Parsed and validated here as S3
/// validates it; stored as the canonical XML that GetBucketNotificationConfiguration returns (the
/// bucket document "notification"), with every configuration's Id filled in. Turned into
/// `BucketNotificationRule`s when the server builds its configuration (BucketNotificationRules),
/// so events are matched against rules parsed once, never against this document.
struct NotificationConfiguration: Equatable, Sendable {
    /// The three S3 shapes; all name a Depot sink by its ARN and behave the same.
    enum Kind: String, CaseIterable, Sendable {
        case topic = "Topic"
        case queue = "Queue"
        case cloudFunction = "CloudFunction"
        var element: String { rawValue + "Configuration" }
    }

    struct Entry: Equatable, Sendable {
        var kind: Kind
        var id: String
        var arn: String
        var events: [String]
        var prefix: String?
        var suffix: String?
    }

    var entries: [Entry]

    /// The bucket document that holds it.
    static let documentName = "notification"
    static let maximumBytes = 256 << 10
    static let maximumEntries = 100
    /// S3's bound on a filter rule's value.
    static let maximumFilterValue = 1024

    init(entries: [Entry]) { self.entries = entries }

    /// Parses and validates a PutBucketNotificationConfiguration body (ARNs are checked against the
    /// sinks by `checkTargets`); the first problem is thrown as S3's error. A configuration
    /// without an Id gets a generated one, as S3 gives it.
    init(xml bytes: [UInt8]) throws {
        let root = try XMLElement.parse(bytes)
        guard root.name == "NotificationConfiguration" else { throw S3Error.malformedXML() }
        if root.child("EventBridgeConfiguration") != nil {
            throw S3Error.notImplemented("EventBridgeConfiguration (Depot delivers to its configured sinks only)")
        }
        let kinds = Dictionary(uniqueKeysWithValues: Kind.allCases.map { ($0.element, $0) })
        var entries: [Entry] = []
        for child in root.children {
            guard let kind = kinds[child.name] else { throw S3Error.malformedXML() }
            entries.append(try Self.entry(child, kind))
        }
        guard entries.count <= Self.maximumEntries else {
            throw S3Error.invalidArgument(
                "A notification configuration may hold at most \(Self.maximumEntries) configurations, this one has \(entries.count)."
            )
        }
        var seen = Set<String>()
        for entry in entries where !seen.insert(entry.id).inserted {
            throw S3Error.invalidArgument("Id: configuration Ids must be unique; \(entry.id) is given twice.")
        }
        self.entries = entries
    }

    private static func trimmed(_ element: XMLElement) -> String {
        String(element.text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    /// The one child named `name`, if any; two are malformed.
    private static func single(_ element: XMLElement, _ name: String) throws -> XMLElement? {
        let found = element.children(name)
        guard found.count <= 1 else { throw S3Error.malformedXML() }
        return found.first
    }

    private static func entry(_ element: XMLElement, _ kind: Kind) throws -> Entry {
        let known: Set<String> = ["Id", kind.rawValue, "Event", "Filter"]
        for child in element.children where !known.contains(child.name) { throw S3Error.malformedXML() }
        guard let arnElement = try single(element, kind.rawValue), arnElement.children.isEmpty else {
            throw S3Error.malformedXML()
        }
        let arn = trimmed(arnElement)
        var id = try single(element, "Id").map(trimmed) ?? ""
        guard id.count <= 255 else {
            throw S3Error.invalidArgument("Id: a notification configuration's Id may be at most 255 characters long.")
        }
        if id.isEmpty { id = generatedID() }
        var events: [String] = []
        for event in element.children("Event") {
            let name = trimmed(event)
            guard S3EventName.isKnown(name) else {
                throw S3Error(
                    "InvalidArgument", .badRequest, "The event \(name) is not supported for notifications.",
                    details: [("ArgumentName", "Event"), ("ArgumentValue", name)])
            }
            if !events.contains(name) { events.append(name) }
        }
        guard !events.isEmpty else { throw S3Error.malformedXML() }
        var entry = Entry(kind: kind, id: id, arn: arn, events: events)
        if let filter = try single(element, "Filter") { try parseFilter(filter, into: &entry) }
        return entry
    }

    /// `<Filter><S3Key><FilterRule><Name>prefix|suffix</Name><Value>…</Value></FilterRule>…`: at
    /// most one of each name (in any letter case, as S3 takes them).
    private static func parseFilter(_ filter: XMLElement, into entry: inout Entry) throws {
        guard filter.children.allSatisfy({ $0.name == "S3Key" }), let key = try single(filter, "S3Key") else {
            if filter.children.isEmpty { return }
            throw S3Error.malformedXML()
        }
        for rule in key.children {
            guard rule.name == "FilterRule", let name = try single(rule, "Name"), rule.children.count <= 2 else {
                throw S3Error.malformedXML()
            }
            let valueElement = try single(rule, "Value")
            guard rule.children.count == (valueElement == nil ? 1 : 2) else { throw S3Error.malformedXML() }
            // A prefix or suffix is taken as sent: a space is part of the key.
            let value = valueElement?.text ?? ""
            guard value.utf8.count <= maximumFilterValue else {
                throw S3Error.invalidArgument("FilterRule: a \(trimmed(name)) may be at most \(maximumFilterValue) bytes long.")
            }
            switch trimmed(name).lowercased() {
            case "prefix":
                guard entry.prefix == nil else {
                    throw S3Error.invalidArgument("Cannot specify more than one prefix rule in a filter.")
                }
                entry.prefix = value
            case "suffix":
                guard entry.suffix == nil else {
                    throw S3Error.invalidArgument("Cannot specify more than one suffix rule in a filter.")
                }
                entry.suffix = value
            default:
                throw S3Error(
                    "InvalidArgument", .badRequest, "The filter rule name must be either prefix or suffix.",
                    details: [("ArgumentName", "FilterRule.Name"), ("ArgumentValue", trimmed(name))])
            }
        }
    }

    /// Refuses an ARN that names no configured sink, naming it (InvalidArgument, as S3 answers a
    /// destination it cannot validate).
    func checkTargets(_ events: EventSettings, region: String) throws {
        for entry in entries where events.sink(arn: entry.arn, region: region) == nil {
            throw S3Error(
                "InvalidArgument", .badRequest,
                "The ARN \(entry.arn) names no event sink of this server: use a sink's ARN as depot events status prints it (arn:minio:sqs::<sink>:<type>).",
                details: [("ArgumentName", entry.kind.rawValue), ("ArgumentValue", entry.arn)])
        }
    }

    /// The rules it asks for, resolved to sink names; an ARN that no longer names a sink (the
    /// sink was removed from the file) is returned apart, and its entry applies to nothing.
    func rules(_ events: EventSettings, region: String) -> (rules: [BucketNotificationRule], unknownARNs: [String]) {
        var rules: [BucketNotificationRule] = []
        var unknown: [String] = []
        for entry in entries {
            guard let sink = events.sink(arn: entry.arn, region: region) else {
                unknown.append(entry.arn)
                continue
            }
            rules.append(
                BucketNotificationRule(
                    id: entry.id, sink: sink.name, events: entry.events, prefix: entry.prefix ?? "",
                    suffix: entry.suffix ?? ""))
        }
        return (rules, unknown)
    }

    /// A configuration Id for one that named none (random, 48 characters, as S3 makes one).
    private static func generatedID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        return String((0..<48).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }

    /// The GetBucketNotificationConfiguration document, also what is stored.
    var document: XMLWriter {
        var xml = XMLWriter()
        xml.group("NotificationConfiguration", namespace: true) { x in
            for entry in entries {
                x.group(entry.kind.element) { c in
                    c.element("Id", entry.id)
                    c.element(entry.kind.rawValue, entry.arn)
                    for event in entry.events { c.element("Event", event) }
                    if entry.prefix != nil || entry.suffix != nil {
                        c.group("Filter") { f in
                            f.group("S3Key") { k in
                                for (name, value) in [("prefix", entry.prefix), ("suffix", entry.suffix)] {
                                    guard let value else { continue }
                                    k.group("FilterRule") { r in
                                        r.element("Name", name)
                                        r.element("Value", value)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return xml
    }
}
