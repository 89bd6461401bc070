/// What S3's bucket rule documents (lifecycle, replication) share when they are read: a rule's
/// ID, its Status, single elements and trimmed values, with S3's errors for each.
enum RuleXML {
    /// Values such as Status and Days without the whitespace of a pretty-printed document.
    /// Prefixes and tag keys and values are taken as they are: a space there is part of the name.
    static func trimmed(_ element: XMLElement) -> String {
        String(element.text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    /// The one child named `name`, if any; two are malformed.
    static func single(_ element: XMLElement, _ name: String) throws -> XMLElement? {
        let found = element.children(name)
        guard found.count <= 1 else { throw S3Error.malformedXML() }
        return found.first
    }

    /// A rule's ID: at most 255 characters; a rule without one gets a generated one, as S3 gives
    /// it. `kind` names the rule in the error ("lifecycle", "replication").
    static func ruleID(_ rule: XMLElement, kind: String) throws -> String {
        let id = try single(rule, "ID").map(trimmed) ?? ""
        guard id.count <= 255 else {
            throw S3Error.invalidArgument("ID: the ID of a \(kind) rule may be at most 255 characters long.")
        }
        return id.isEmpty ? generatedID() : id
    }

    /// `<Status>Enabled</Status>` or `Disabled` inside `element` (a rule, DeleteMarkerReplication…):
    /// whether it is enabled; anything else, or none, is malformed.
    static func isEnabled(_ element: XMLElement) throws -> Bool {
        guard let status = try single(element, "Status").map(trimmed), status == "Enabled" || status == "Disabled"
        else { throw S3Error.malformedXML() }
        return status == "Enabled"
    }

    /// Refuses a document whose rules share an ID, naming it as S3 does.
    static func requireUniqueIDs(_ ids: [String]) throws {
        var seen = Set<String>()
        for id in ids where !seen.insert(id).inserted {
            throw S3Error.invalidArgument("ID: rule ID must be unique. Found same ID for more than one rule: \(id)")
        }
    }

    /// A rule ID for a rule that named none, as S3 makes one (random, 48 characters).
    private static func generatedID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        return String((0..<48).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }
}
