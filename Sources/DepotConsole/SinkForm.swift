import Foundation

/// The fields of the console's event sink forms, one list per sink type the admin API accepts
/// (the fields of an `events.sinks[]` entry, Sources/DepotConfig/Events.swift), and the admin API
/// document a filled form becomes. The console checks nothing itself: the admin API parses the
/// document exactly as the configuration file's entries, and its error names the field, which
/// the form marks.
struct SinkFormField {
    enum Input {
        case text
        /// Comma-separated values sent as a JSON list (Kafka's brokers, the events matched).
        case list
        /// A checkbox; an unticked box is sent as false.
        case flag
        /// Never written back into a page. On edit, left blank keeps the stored one.
        case secret
        /// One of a few values.
        case choice([String])
    }

    /// The field's place in the document: `url`, `match.prefix`, `sasl.password`.
    let path: String
    let label: String
    var input: Input = .text
    var required = false
    var hint = ""
}

enum SinkForm {
    /// The admin API's sink types, in the order the type menu lists them.
    static let kinds = ["webhook", "sqs", "kafka", "rabbitmq"]

    /// What every sink has after its name: the payload format and which events it takes.
    static let commonFields = [
        SinkFormField(
            path: "format", label: "Format", input: .choice(["s3", "kerberos"]),
            hint: "s3: AWS S3 event notifications; kerberos: Kerberos Vault pipeline events"),
        SinkFormField(path: "provider", label: "Provider name (kerberos format)", hint: "default depot"),
        SinkFormField(path: "timeout", label: "Timeout per attempt", hint: "e.g. 10s (1s to 300s)"),
        SinkFormField(path: "match.bucket", label: "Only bucket", hint: "empty: every bucket"),
        SinkFormField(path: "match.prefix", label: "Only keys starting with"),
        SinkFormField(
            path: "match.events", label: "Events", input: .list,
            hint: "comma-separated: created, removed, replicated, replicationFailed, transitioned (default created, removed)"),
        SinkFormField(path: "match.account", label: "Only uploads by access key"),
    ]

    static let kindFields: [String: [SinkFormField]] = [
        "webhook": [
            SinkFormField(path: "url", label: "URL", required: true, hint: "http:// or https://; each event is POSTed to it"),
            SinkFormField(
                path: "secret", label: "Signing secret", input: .secret,
                hint: "signs each body (X-Depot-Signature: sha256=HMAC); empty: unsigned"),
        ],
        "sqs": [
            SinkFormField(path: "queueUrl", label: "Queue URL", hint: "or a queue name below"),
            SinkFormField(path: "queueName", label: "Queue name", hint: "looked up when no URL is given"),
            SinkFormField(path: "endpoint", label: "Endpoint", hint: "default https://sqs.REGION.amazonaws.com"),
            SinkFormField(path: "region", label: "Region", hint: "default us-east-1"),
            SinkFormField(path: "accessKey", label: "Access key", required: true),
            SinkFormField(path: "secretKey", label: "Secret key", input: .secret, required: true),
        ],
        "kafka": [
            SinkFormField(path: "brokers", label: "Brokers", input: .list, required: true, hint: "comma-separated HOST:PORT"),
            SinkFormField(path: "topic", label: "Topic", required: true),
            SinkFormField(
                path: "sasl.mechanism", label: "SASL mechanism", hint: "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty: none"),
            SinkFormField(path: "sasl.username", label: "SASL user name"),
            SinkFormField(path: "sasl.password", label: "SASL password", input: .secret),
            SinkFormField(path: "tls", label: "TLS", input: .flag),
            SinkFormField(path: "caFile", label: "CA file", hint: "a PEM file on this server; empty: the system's"),
        ],
        "rabbitmq": [
            SinkFormField(
                path: "url", label: "URL", required: true,
                hint: "amqp:// or amqps://user:password@host/vhost (the password is never shown again)"),
            SinkFormField(path: "exchange", label: "Exchange", hint: "empty: the default exchange"),
            SinkFormField(path: "routingKey", label: "Routing key"),
            SinkFormField(path: "caFile", label: "CA file", hint: "a PEM file on this server; empty: the system's"),
        ],
    ]

    static func fields(of kind: String) -> [SinkFormField] { (kindFields[kind] ?? []) + commonFields }

    /// The form's name for a field (`match.prefix` → `match-prefix`), also its element id's tail.
    static func formName(_ path: String) -> String { path.replacingOccurrences(of: ".", with: "-") }

    /// The admin API document of a filled form. `current` is the sink as GET shows it (on edit:
    /// settings the form does not show, such as webhook headers, are kept, and masked secrets
    /// stand for the stored ones); empty on create.
    static func document(kind: String, form: [String: String], current: [String: Any]) -> [String: Any] {
        var document = current
        for shown in ["source", "status", "arn"] { document[shown] = nil }
        document["type"] = kind
        for field in fields(of: kind) {
            let typed = form[formName(field.path)]?.trimmingCharacters(in: .whitespaces) ?? ""
            switch field.input {
            case .flag:
                set(&document, field.path, typed == "true")
            case .secret:
                // Left blank: the stored secret (masked in `current`) stays; on create, none.
                if !typed.isEmpty { set(&document, field.path, typed) }
            case .list:
                let items = typed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                set(&document, field.path, items.isEmpty ? nil : items)
            case .text, .choice:
                set(&document, field.path, typed.isEmpty ? nil : typed)
            }
        }
        // An emptied group is left out: a sink without SASL, a match that takes everything.
        for group in ["match", "sasl"] where (document[group] as? [String: Any])?.isEmpty == true { document[group] = nil }
        return document
    }

    /// Sets (or with nil removes) a value at a one- or two-level path.
    static func set(_ document: inout [String: Any], _ path: String, _ value: Any?) {
        let parts = path.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            document[path] = value
            return
        }
        var group = document[parts[0]] as? [String: Any] ?? [:]
        group[parts[1]] = value
        document[parts[0]] = group
    }

    static func value(_ document: [String: Any], _ path: String) -> Any? {
        let parts = path.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return document[path] }
        return (document[parts[0]] as? [String: Any])?[parts[1]]
    }

    /// The form's fields for the template: the value typed (after a refusal) or stored (on edit),
    /// never a secret; the field the admin API named marked invalid.
    static func values(
        kind: String, idPrefix: String, typed: [String: String]?, current: [String: Any], errorField: String?
    ) -> [[String: Any]] {
        fields(of: kind).map { field in
            let name = formName(field.path)
            var out: [String: Any] = [
                "id": idPrefix + name, "name": name, "label": field.label, "required": field.required,
                "hint": field.hint, "hasHint": !field.hint.isEmpty, "hintID": idPrefix + name + "-hint",
            ]
            if let errorField,
                errorField == field.path || errorField.hasPrefix(field.path + "[")
                    || errorField.hasPrefix(field.path + ".")
            {
                out["invalid"] = true
            }
            let stored = value(current, field.path)
            switch field.input {
            case .flag:
                out["isFlag"] = true
                out["checked"] = typed.map { $0[name] == "true" } ?? ((stored as? Bool) ?? false)
            case .secret:
                out["isSecret"] = true
                if stored != nil {
                    out["hint"] = "stored; leave blank to keep it"
                    out["hasHint"] = true
                }
            case .choice(let options):
                let chosen = typed?[name] ?? (stored as? String) ?? options[0]
                out["isChoice"] = true
                out["options"] = options.map { ["option": $0, "selected": $0 == chosen] }
            case .list:
                out["isText"] = true
                out["value"] = typed?[name] ?? ((stored as? [Any])?.map { "\($0)" }.joined(separator: ", ") ?? "")
            case .text:
                out["isText"] = true
                out["value"] = typed?[name] ?? stored.map { ConsoleService.text($0) } ?? ""
            }
            return out
        }
    }
}
