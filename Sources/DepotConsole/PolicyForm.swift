/// The fields of the console's policy forms: one list, every field of a `policies[]` entry the
/// admin API accepts (`DepotConfiguration.parsePolicy`, Sources/DepotConfig/Tiers.swift), and the
/// admin API document a filled form becomes. As with tiers (TierForm.swift), the console
/// validates nothing: the admin API parses the document as the configuration file's entries and
/// its error names the field (`expire.after`, `replicate.to[1]`), which the form marks invalid.
struct PolicyFormField {
    enum Input {
        case text
        /// A whole number, sent as text (the admin API parses it and names the field if it is not one).
        case number
        /// A checkbox; unticked is left out (every flag of a policy defaults to false).
        case flag
        /// A menu; its first entry is "" (the admin API's default, which `defaultLabel` names).
        case choice([String], defaultLabel: String)
        /// `name=value` lines, sent as a mapping (object tags, metadata).
        case pairs
        /// Comma-separated names, sent as a list (the tiers to replicate to).
        case list
    }

    /// Where it is in the admin API's document, e.g. ["expire", "after"].
    let path: [String]
    /// The form field's name and the end of its element id (`p-…` on create, `pe-…` on edit).
    let name: String
    let label: String
    var input: Input = .text
    var hint = ""

    var apiName: String { path.joined(separator: ".") }
}

enum PolicyForm {
    /// The form's parts, in order, each a fieldset.
    static let sections: [(legend: String, fields: [PolicyFormField])] = [
        (
            "Which recordings",
            [
                PolicyFormField(path: ["match", "bucket"], name: "bucket", label: "Bucket", hint: "empty or *: every bucket"),
                PolicyFormField(path: ["match", "prefix"], name: "prefix", label: "Key prefix"),
                PolicyFormField(
                    path: ["match", "key"], name: "key", label: "Key pattern",
                    hint: "checked as well as the prefix, e.g. cam*/2026-*/*.mp4"),
                PolicyFormField(
                    path: ["match", "account"], name: "account", label: "Written by account (access key)"),
                PolicyFormField(
                    path: ["match", "metadata"], name: "metadata", label: "Metadata", input: .pairs,
                    hint: "one name=value a line, all must match, e.g. event-instancename=cam3"),
                PolicyFormField(
                    path: ["match", "tags"], name: "tags", label: "Object tags", input: .pairs,
                    hint: "one name=value a line, all must match"),
                PolicyFormField(path: ["match", "minSize"], name: "minSize", label: "At least", hint: "a size, e.g. 1MiB"),
                PolicyFormField(path: ["match", "maxSize"], name: "maxSize", label: "At most", hint: "a size, e.g. 4GiB"),
            ]
        ),
        (
            "Replicate",
            [
                PolicyFormField(
                    path: ["replicate", "to"], name: "tier", label: "Replicate to tiers (comma-separated)", input: .list),
                PolicyFormField(
                    path: ["replicate", "mode"], name: "mode", label: "Replication",
                    input: .choice(["continuous", "on-demand"], defaultLabel: "continuous (default)"),
                    hint: "continuous: each recording as it arrives; on demand: only when asked (Replicate now)"),
                PolicyFormField(
                    path: ["replicate", "deletes"], name: "deletes",
                    label: "Delete a recording's copies when it is deleted here", input: .flag),
                PolicyFormField(
                    path: ["replicate", "versions"], name: "versions", label: "Versions copied",
                    input: .choice(["all", "current"], defaultLabel: "all (default)"),
                    hint: "versioned buckets: every version, or only the current one"),
                PolicyFormField(
                    path: ["replicate", "encryptedObjects"], name: "encryptedObjects", label: "Encrypted recordings are sent as",
                    input: .choice(["plaintext", "ciphertext"], defaultLabel: "plaintext (default)")),
            ]
        ),
        (
            "Expire",
            [
                PolicyFormField(
                    path: ["expire", "after"], name: "expireAfter", label: "Delete recordings older than",
                    hint: "a duration, e.g. 30d, 12h; empty: kept"),
                PolicyFormField(
                    path: ["expire", "where"], name: "expireWhere", label: "Delete them from",
                    input: .choice(["local", "tiers", "everywhere"], defaultLabel: "local (default)")),
                PolicyFormField(
                    path: ["expire", "noncurrentAfter"], name: "noncurrentAfter", label: "Delete replaced versions after",
                    hint: "versioned buckets, e.g. 7d"),
                PolicyFormField(
                    path: ["expire", "keepNewerNoncurrent"], name: "keepNewerNoncurrent",
                    label: "But keep this many newest replaced versions", input: .number),
                PolicyFormField(
                    path: ["expire", "expiredDeleteMarkers"], name: "expiredDeleteMarkers",
                    label: "Remove delete markers with no version left", input: .flag),
            ]
        ),
        (
            "Object Lock",
            [
                PolicyFormField(
                    path: ["lock", "mode"], name: "lockMode", label: "Lock new recordings",
                    input: .choice(["GOVERNANCE", "COMPLIANCE"], defaultLabel: "no"),
                    hint: "buckets with Object Lock only; a request's own retention wins"),
                PolicyFormField(path: ["lock", "days"], name: "lockDays", label: "for days", input: .number),
                PolicyFormField(path: ["lock", "years"], name: "lockYears", label: "or for years", input: .number),
            ]
        ),
        (
            "Transition",
            [
                PolicyFormField(
                    path: ["transition", "after"], name: "transitionAfter", label: "Remove the local copy after",
                    hint: "e.g. 7d, once every tier it replicates to holds the recording")
            ]
        ),
    ]

    static var fields: [PolicyFormField] { sections.flatMap(\.fields) }

    /// The fieldsets as the `policyFields` template shows them: what was typed (after a refusal or a
    /// dry run) or what the policy has (`current`, the admin API's description), with the field
    /// the admin API's error names (`invalid`) marked.
    static func values(idPrefix: String, typed: [String: String]?, current: [String: Any]?, invalid: String?)
        -> [[String: Any]]
    {
        sections.map { section in
            let rows = section.fields.map { field -> [String: Any] in
                let id = idPrefix + "-" + field.name
                // After a refusal the form shows what was typed (an unticked box is absent: off).
                let value = typed.map { $0[field.name] ?? "" } ?? current.flatMap { shown(field, in: $0) } ?? ""
                var row: [String: Any] = [
                    "id": id, "name": field.name, "label": field.label, "hint": field.hint, "hintID": id + "-hint",
                    "hasHint": !field.hint.isEmpty, "value": value, "invalid": invalid.map { names($0, field) } ?? false,
                ]
                switch field.input {
                case .text, .number, .list:
                    row["isText"] = true
                    row["inputMode"] = field.input.isNumber ? "numeric" : "text"
                    row["isTierList"] = field.input.isList
                case .flag:
                    row["isFlag"] = true
                    row["checked"] = value == "true"
                case .choice(let options, let defaultLabel):
                    row["isChoice"] = true
                    row["options"] =
                        [["value": "", "label": defaultLabel, "selected": value.isEmpty]]
                        + options.map { ["value": $0, "label": $0, "selected": $0 == value] }
                case .pairs:
                    row["isPairs"] = true
                }
                return row
            }
            return ["legend": section.legend, "fields": rows]
        }
    }

    /// Whether the admin API's error field (`replicate.to[1]`, or a whole part such as `lock`) is this one.
    static func names(_ errorField: String, _ field: PolicyFormField) -> Bool {
        let own = field.apiName
        return errorField == own || errorField.hasPrefix(own + ".") || errorField.hasPrefix(own + "[")
            || own.hasPrefix(errorField + ".")
    }

    /// A field's value in the admin API's description of a policy, as the form shows it.
    static func shown(_ field: PolicyFormField, in policy: [String: Any]) -> String? {
        var node: Any? = policy
        for step in field.path { node = (node as? [String: Any])?[step] }
        guard let node else { return nil }
        switch field.input {
        case .flag:
            return (node as? Bool) == true ? "true" : ""
        case .list:
            return (node as? [String])?.joined(separator: ", ")
        case .pairs:
            let mapping = node as? [String: Any] ?? [:]
            return mapping.keys.sorted().map { "\($0)=\(ConsoleService.text(mapping[$0]!))" }.joined(separator: "\n")
        default:
            let text = ConsoleService.text(node)
            return ["expire", "transition"].contains(field.path[0]) ? readableDuration(text) : text
        }
    }

    /// The admin API describes durations in seconds (`2592000s`); the form shows `30d`.
    static func readableDuration(_ text: String) -> String {
        guard text.hasSuffix("s"), let seconds = Int(text.dropLast()), seconds > 0 else { return text }
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] where seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return text
    }

    /// The admin API document of a filled form (without its name). Empty fields are left out, so
    /// the admin API's defaults apply and a part nobody filled in (expire, lock) is not given.
    /// Nothing is checked here: a `name=value` list with a line that is not one is sent as the
    /// text it is, and the admin API refuses it naming the field.
    static func document(_ form: [String: String]) -> [String: Any] {
        var document: [String: Any] = [:]
        for field in fields {
            let raw = form[field.name] ?? ""
            let typed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            let value: Any?
            switch field.input {
            case .flag:
                value = typed == "true" ? true : nil
            case .list:
                let names = typed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                value = names.isEmpty ? nil : names
            case .pairs:
                value = typed.isEmpty ? nil : (pairs(typed).map { $0 as Any } ?? typed)
            default:
                value = typed.isEmpty ? nil : typed
            }
            guard let value else { continue }
            var part = document[field.path[0]] as? [String: Any] ?? [:]
            part[field.path[1]] = value
            document[field.path[0]] = part
        }
        // A policy always has a match (the admin API requires the mapping); an empty prefix is every key.
        if document["match"] == nil { document["match"] = ["prefix": ""] }
        return document
    }

    /// `name=value` lines as a mapping; nil when a line is not one.
    static func pairs(_ text: String) -> [String: String]? {
        var mapping: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let line = line.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "="), equals != line.startIndex else { return nil }
            mapping[String(line[..<equals]).trimmingCharacters(in: .whitespaces)] =
                String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        }
        return mapping
    }

    /// One policy form's fieldsets (the create form's and the edit form's). No `required`
    /// attribute: the admin API decides what is missing, and its error marks the field.
    static let template = """
        {{#sections}}
        <fieldset class="part"><legend>{{legend}}</legend>
        {{#fields}}
        {{#isFlag}}<div class="flag"><input type="checkbox" id="{{id}}" name="{{name}}" value="true"{{#checked}} checked{{/checked}}{{#invalid}} aria-invalid="true"{{/invalid}}{{#hasHint}} aria-describedby="{{hintID}}"{{/hasHint}}><label for="{{id}}">{{label}}</label></div>{{/isFlag}}
        {{#isText}}<label for="{{id}}">{{label}}</label><input id="{{id}}" name="{{name}}" value="{{value}}" inputmode="{{inputMode}}"{{#isTierList}} list="tier-names"{{/isTierList}}{{#invalid}} aria-invalid="true"{{/invalid}}{{#hasHint}} aria-describedby="{{hintID}}"{{/hasHint}}>{{/isText}}
        {{#isChoice}}<label for="{{id}}">{{label}}</label><select id="{{id}}" name="{{name}}"{{#invalid}} aria-invalid="true"{{/invalid}}{{#hasHint}} aria-describedby="{{hintID}}"{{/hasHint}}>{{#options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/options}}</select>{{/isChoice}}
        {{#isPairs}}<label for="{{id}}">{{label}}</label><textarea id="{{id}}" name="{{name}}" rows="2" spellcheck="false"{{#invalid}} aria-invalid="true"{{/invalid}}{{#hasHint}} aria-describedby="{{hintID}}"{{/hasHint}}>{{value}}</textarea>{{/isPairs}}
        {{#hasHint}}<p class="field-hint muted" id="{{hintID}}">{{hint}}</p>{{/hasHint}}
        {{/fields}}
        </fieldset>
        {{/sections}}
        <datalist id="tier-names">{{#tierNames}}<option value="{{.}}">{{/tierNames}}</datalist>
        """
}

extension PolicyFormField.Input {
    var isNumber: Bool {
        if case .number = self { return true }
        return false
    }
    var isList: Bool {
        if case .list = self { return true }
        return false
    }
}
