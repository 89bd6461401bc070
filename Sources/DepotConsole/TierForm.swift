/// The fields of the console's tier forms, one list per tier type the admin API accepts (the
/// fields of a `tiers[]` entry, Sources/DepotConfig/Tiers.swift), and the admin API document a
/// filled form becomes. The console validates nothing itself: the admin API parses the document
/// exactly as the configuration file's entries, and its error names the field.
struct TierFormField {
    enum Input {
        case text
        /// A whole number (sent as text; the admin API parses it and names the field if it is not one).
        case number
        /// A checkbox; an unticked box is sent as false.
        case flag(default: Bool)
        /// A secret: never written back into a page. On edit, left blank keeps the stored one.
        case secret
        /// A secret too long for one line (a service account's JSON key).
        case secretText
    }

    let name: String
    let label: String
    var input: Input = .text
    var required = false
    var hint = ""

    var isSecret: Bool {
        switch input {
        case .secret, .secretText: return true
        default: return false
        }
    }
}

enum TierForm {
    /// The admin API's types, in the order the type menu lists them.
    static let kinds = ["filesystem", "s3", "gcs", "azure", "vault"]

    /// What each type needs, after its name.
    static let kindFields: [String: [TierFormField]] = [
        "filesystem": [
            TierFormField(name: "path", label: "Path", required: true, hint: "a directory on this server (a mounted NAS share)")
        ],
        "s3": [
            TierFormField(name: "endpoint", label: "Endpoint", required: true, hint: "e.g. https://s3.eu-west-1.amazonaws.com"),
            TierFormField(name: "region", label: "Region", hint: "default us-east-1"),
            TierFormField(name: "bucket", label: "Bucket", required: true),
            TierFormField(name: "accessKey", label: "Access key", required: true),
            TierFormField(name: "secretKey", label: "Secret key", input: .secret, required: true),
            TierFormField(name: "pathStyle", label: "Path-style addressing", input: .flag(default: true)),
            TierFormField(
                name: "objectLock", label: "The bucket has Object Lock (copies keep retention and legal hold)",
                input: .flag(default: false)),
            TierFormField(
                name: "serverSideEncryption", label: "Server-side encryption",
                hint: "AES256 or aws:kms; empty: the bucket's default"),
            TierFormField(name: "kmsKeyId", label: "KMS key id", hint: "with aws:kms only"),
            TierFormField(name: "multipartThreshold", label: "Multipart threshold", hint: "default 64MiB"),
            TierFormField(name: "partSize", label: "Part size", hint: "default 16MiB, at least 5MiB"),
        ],
        "gcs": [
            TierFormField(name: "bucket", label: "Bucket", required: true),
            TierFormField(name: "endpoint", label: "Endpoint", hint: "default https://storage.googleapis.com"),
            TierFormField(
                name: "credentials", label: "Service account key (JSON)", input: .secretText,
                hint: "required for Google Cloud Storage; empty with a custom endpoint: no authentication (emulators)"),
            TierFormField(name: "credentialsFile", label: "or the key file's path on this server"),
            TierFormField(name: "tokenUri", label: "Token URI", hint: "default: the key's token_uri"),
            TierFormField(name: "chunkSize", label: "Upload chunk size", hint: "a multiple of 256KiB, default 8MiB"),
        ],
        "azure": [
            TierFormField(name: "account", label: "Storage account", required: true),
            TierFormField(name: "container", label: "Container", required: true),
            TierFormField(name: "endpoint", label: "Endpoint", hint: "default https://ACCOUNT.blob.core.windows.net"),
            TierFormField(
                name: "accountKey", label: "Account key (Shared Key)", input: .secret, hint: "the base64 key the portal shows"),
            TierFormField(name: "sas", label: "or a SAS token", input: .secret),
            TierFormField(name: "blockThreshold", label: "Block upload threshold", hint: "default 64MiB"),
            TierFormField(name: "blockSize", label: "Block size", hint: "64KiB to 100MiB, default 8MiB"),
        ],
        "vault": [
            TierFormField(name: "endpoint", label: "Vault API", required: true, hint: "e.g. https://vault.example/api"),
            TierFormField(name: "accessKey", label: "Access key", required: true),
            TierFormField(name: "secretKey", label: "Secret key", input: .secret, required: true),
            TierFormField(name: "provider", label: "Storage provider", hint: "empty: the remote account's main provider"),
            TierFormField(name: "chunkSize", label: "Upload chunk size", hint: "1MiB to 1GiB, default 8MiB"),
        ],
    ]

    /// Settings every type has.
    static let commonFields = [
        TierFormField(name: "prefix", label: "Key prefix on the tier"),
        TierFormField(name: "includeBucket", label: "Put the bucket's name in each key", input: .flag(default: false)),
        TierFormField(name: "concurrency", label: "Copies at once", input: .number, hint: "1 to 64, default 4"),
        TierFormField(name: "maxAttempts", label: "Attempts before a copy is FAILED", input: .number, hint: "default 12"),
        TierFormField(
            name: "failingAfter", label: "Failing after", hint: "e.g. 5m (the default): how long it may fail without one success"),
        TierFormField(name: "bandwidth", label: "Bandwidth limit", hint: "bytes per second, e.g. 2MB; empty: unlimited"),
        TierFormField(name: "window", label: "Copy window", hint: "local time, e.g. 22:00-06:00; empty: always"),
        TierFormField(name: "storageClass", label: "S3 storage class it is", hint: "e.g. GLACIER_IR; empty: none"),
    ]

    /// The masked value the admin API shows for a stored secret; sent back, it keeps the stored one.
    static let masked = "********"

    /// Element ids: the create form's `t-…`, the edit form's `e-…` (access and secret keys keep their short names).
    static func elementID(_ prefix: String, _ field: String) -> String {
        prefix + "-" + (["accessKey": "access", "secretKey": "secret"][field] ?? field)
    }

    static func fields(of kind: String) -> [TierFormField] { (kindFields[kind] ?? []) + commonFields }

    /// The values of the fields as the template shows them: what was typed (after a refusal) or
    /// what the tier has (`current`, the admin API's description); never a secret.
    static func values(
        kind: String, idPrefix: String, typed: [String: String]?, current: [String: Any]?, editing: Bool
    ) -> [[String: Any]] {
        fields(of: kind).map { field in
            var value = typed?[field.name] ?? current.flatMap { shown(field.name, in: $0) } ?? ""
            var row: [String: Any] = [
                "id": elementID(idPrefix, field.name), "name": field.name, "label": field.label, "hint": field.hint,
                "hintID": elementID(idPrefix, field.name) + "-hint", "hasHint": !field.hint.isEmpty,
            ]
            switch field.input {
            case .text, .number:
                row["isText"] = true
                row["required"] = field.required
                row["inputMode"] = field.isNumber ? "numeric" : "text"
            case .flag(let standard):
                row["isFlag"] = true
                if let typed {
                    row["checked"] = typed[field.name] == "true"
                } else if let current, let on = current[field.name] as? Bool {
                    row["checked"] = on
                } else {
                    row["checked"] = standard
                }
            case .secret, .secretText:
                value = ""
                row["isSecret"] = true
                row["isSecretText"] = field.isMultiline
                // On edit a stored secret stays unless a new one is typed, so the field is optional.
                row["required"] = field.required && !editing
                if editing { row["label"] = field.label + " (leave blank to keep)" }
            }
            row["value"] = value
            return row
        }
    }

    /// A field's value as the admin API describes the tier, as text for the form.
    private static func shown(_ name: String, in tier: [String: Any]) -> String? {
        switch name {
        case "failingAfter":
            guard let seconds = tier["failingAfterSeconds"] as? Int else { return nil }
            for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] where seconds % size == 0 {
                return "\(seconds / size)\(unit)"
            }
            return "\(seconds)s"
        case "serverSideEncryption":
            return (tier["serverSideEncryption"] as? [String: Any])?["algorithm"] as? String
        case "kmsKeyId":
            return (tier["serverSideEncryption"] as? [String: Any])?["kmsKeyId"] as? String
        default:
            guard let value = tier[name], !(value is Bool) else { return nil }
            return ConsoleService.text(value)
        }
    }

    /// The admin API document of a filled form. Empty fields are left out (the admin API's default
    /// applies); an unticked box is false. On edit, a secret left blank is sent as the admin API's
    /// mask when the tier holds one, which keeps the stored secret.
    static func document(kind: String, form: [String: String], current: [String: Any]?) -> [String: Any] {
        var document: [String: Any] = ["type": kind]
        for field in fields(of: kind) {
            let typed = form[field.name].map { field.isMultiline ? $0 : $0.trimmingCharacters(in: .whitespaces) } ?? ""
            switch field.input {
            case .flag:
                document[field.name] = form[field.name] == "true"
            case .secret, .secretText:
                if !typed.isEmpty {
                    document[field.name] = typed
                } else if let current, current[field.name] as? String == masked {
                    document[field.name] = masked
                }
            case .text, .number:
                if !typed.isEmpty { document[field.name] = typed }
            }
        }
        // A GCS key named by its file replaces the stored one: the mask would put the old one back over it.
        if document["credentialsFile"] != nil, document["credentials"] as? String == masked { document["credentials"] = nil }
        // The admin API takes encryption as one field: the algorithm, or it and the KMS key.
        if let keyId = document.removeValue(forKey: "kmsKeyId") {
            document["serverSideEncryption"] = ["algorithm": document["serverSideEncryption"] ?? "", "kmsKeyId": keyId]
        }
        return document
    }
}

extension TierFormField {
    var isNumber: Bool {
        if case .number = input { return true }
        return false
    }
    var isMultiline: Bool {
        if case .secretText = input { return true }
        return false
    }
}
