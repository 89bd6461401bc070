import DepotEngine
import DepotObjectBody
import DepotS3
import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore

/// Object Lock on a recording's page: the legal hold switch and the retention form. Both go
/// through the S3 door itself (a presigned PutObjectLegalHold / PutObjectRetention made and
/// answered inside the server, as the console's delete does), so the S3 rules (COMPLIANCE is
/// only ever extended, GOVERNANCE is lifted only with the bypass permission) and the access rule
/// apply exactly as to any S3 client, and the page shows the S3 door's own refusal.
extension ConsoleService {
    /// A refusal shown next to one of the lock controls: the field at fault and why.
    struct LockFieldError {
        let field: String
        let message: String
    }

    /// The lock controls' values for the recording page; none when the bucket has no Object Lock,
    /// and each control only for an account the access rule lets do it (hidden, not disabled).
    func lockControls(bucket: String, key: String, record: ObjectRecord, viewer: Viewer, error: LockFieldError?)
        -> [String: Any]
    {
        guard ((try? engine.bucket(bucket)) ?? nil)?.objectLock != nil else { return [:] }
        var values: [String: Any] = [:]
        let mayHold = allows(viewer, .setLegalHold(key: key), bucket: bucket)
        let mayRetain = allows(viewer, .setRetention(key: key), bucket: bucket)
        if mayHold {
            values["mayHold"] = true
            values["holdOn"] = record.lock.legalHold
        }
        if mayRetain {
            let current = ObjectLockMode(rawValue: record.lock.mode)
            values["mayRetain"] = true
            values["modes"] = ["GOVERNANCE", "COMPLIANCE"].map { ["name": $0, "selected": current?.name == $0] }
            values["mayRemove"] = current != nil
            if current != nil { values["retainUntil"] = Self.minuteText(milliseconds: record.lock.retainUntil) }
            values["mayBypass"] = S3Service.mayBypassGovernance(viewer.account, bucket: bucket, key: key)
        }
        values["mayLock"] = mayHold || mayRetain
        if let error {
            values["lockError"] = "\(error.field): \(error.message)"
            values[error.field + "Invalid"] = true
        }
        return values
    }

    /// `POST /console/lock/legal-hold`: `status` ON or OFF.
    func setLegalHold(_ form: [String: String], viewer: Viewer, request: Request) async -> Response {
        let bucket = form["bucket"] ?? ""
        let key = form["key"] ?? ""
        guard allows(viewer, .setLegalHold(key: key), bucket: bucket) else {
            return problem(.forbidden, "Access denied", "This account may not set a legal hold on \(key) in \(bucket).", viewer)
        }
        let status = form["legalHold"] ?? ""
        guard status == "ON" || status == "OFF" else {
            return lockRefused(
                bucket, key, viewer, request, .badRequest,
                LockFieldError(field: "legalHold", message: "must be ON or OFF, not \(status)."))
        }
        let document = "<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>\(status)</Status></LegalHold>"
        return await putLock(
            "legal-hold", document, bucket: bucket, key: key, field: "legalHold", viewer: viewer, request: request)
    }

    /// `POST /console/lock/retention`: `mode` GOVERNANCE, COMPLIANCE or NONE (remove), and
    /// `retainUntil` (`YYYY-MM-DDTHH:MM` or `YYYY-MM-DD`, UTC); `bypassGovernance` asks for the bypass.
    func setRetention(_ form: [String: String], viewer: Viewer, request: Request) async -> Response {
        let bucket = form["bucket"] ?? ""
        let key = form["key"] ?? ""
        guard allows(viewer, .setRetention(key: key), bucket: bucket) else {
            return problem(.forbidden, "Access denied", "This account may not set the retention of \(key) in \(bucket).", viewer)
        }
        let mode = form["mode"] ?? ""
        let untilText = (form["retainUntil"] ?? "").trimmingCharacters(in: .whitespaces)
        let document: String
        switch mode {
        case "GOVERNANCE", "COMPLIANCE":
            guard let until = Self.minuteTime(untilText) ?? Self.dayRange(untilText)?.lowerBound else {
                return lockRefused(
                    bucket, key, viewer, request, .badRequest,
                    LockFieldError(field: "retainUntil", message: "must be written YYYY-MM-DDTHH:MM (UTC), not \"\(untilText)\".")
                )
            }
            document =
                "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>\(mode)</Mode><RetainUntilDate>"
                + Self.iso8601(milliseconds: until) + "</RetainUntilDate></Retention>"
        case "NONE":
            document = "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>"
        default:
            return lockRefused(
                bucket, key, viewer, request, .badRequest,
                LockFieldError(field: "mode", message: "must be GOVERNANCE, COMPLIANCE or NONE, not \(mode)."))
        }
        // The S3 door still decides whether the bypass applies (it needs the permission).
        let bypass = form["bypassGovernance"] == "on" ? [("x-amz-bypass-governance-retention", "true")] : []
        // A refusal to change the mode is the mode's fault; any other (shortening, a past date) the date's.
        let current = ((try? engine.headObject(bucket: bucket, key: key)) ?? nil).flatMap {
            ObjectLockMode(rawValue: $0.lock.mode)
        }
        let field = current != nil && current?.name != mode ? "mode" : "retainUntil"
        return await putLock(
            "retention", document, bucket: bucket, key: key, field: field, viewer: viewer, request: request, headers: bypass)
    }

    /// A presigned PUT of `?subresource` with `document` through the S3 door; back to the
    /// recording's page, or the page again with the door's refusal next to `field`.
    private func putLock(
        _ subresource: String, _ document: String, bucket: String, key: String, field: String, viewer: Viewer,
        request: Request, headers: [(String, String)] = []
    ) async -> Response {
        let host = host(of: request)
        let answer: Response
        do {
            let url = try PresignedLinks.url(
                method: "PUT", bucket: bucket, key: key, account: viewer.account, host: host, region: region,
                parameters: [(subresource, "")], signedHeaders: headers)
            var fields = HTTPFields()
            for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
            fields[.contentLength] = String(document.utf8.count)
            answer = await s3.respond(
                to: Request(
                    head: HTTPRequest(method: .put, scheme: nil, authority: host, path: url, headerFields: fields),
                    body: RequestBody(buffer: ByteBuffer(string: document))))
        } catch {
            return problem(.internalServerError, "Not changed", "The lock change could not be signed: \(error)", viewer)
        }
        guard answer.status.code < 300 else {
            let (code, message) = await Self.s3Refusal(answer)
            return lockRefused(
                bucket, key, viewer, request, answer.status,
                LockFieldError(field: field, message: "\(message) (S3 \(code), HTTP \(answer.status.code))"))
        }
        RequestOutcome.current?.record {
            $0.bucket = bucket
            $0.key = key
        }
        return Self.redirect(objectLink(bucket: bucket, key: key))
    }

    private func lockRefused(
        _ bucket: String, _ key: String, _ viewer: Viewer, _ request: Request, _ status: HTTPResponse.Status,
        _ error: LockFieldError
    ) -> Response {
        RequestOutcome.current?.record { $0.errorCode = "LockRefused" }
        return objectPage(
            ["bucket": bucket, "key": key], viewer: viewer, host: host(of: request), lockError: error, status: status)
    }

    /// The S3 error document's Code and Message (the S3 rule's own words).
    static func s3Refusal(_ answer: Response) async -> (code: String, message: String) {
        let collector = BodyCollector()
        try? await answer.body.write(collector)
        let text = String(decoding: collector.bytes, as: UTF8.self)
        func element(_ name: String) -> String? {
            guard let start = text.range(of: "<\(name)>"),
                let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex)
            else { return nil }
            return String(text[start.upperBound..<end.lowerBound])
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
                .replacingOccurrences(of: "&amp;", with: "&")
        }
        return (element("Code") ?? "error", element("Message") ?? "the S3 door refused the change")
    }

    /// `2030-01-02T03:04` (UTC), as a datetime-local field shows it.
    static func minuteText(milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    static func iso8601(milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}

/// Keeps what the S3 door wrote (an error document is a few hundred bytes; more is dropped).
private final class BodyCollector: ResponseBodyWriter, @unchecked Sendable {
    static let limit = 64 << 10
    var bytes: [UInt8] = []

    func write(_ buffer: ByteBuffer) async throws {
        bytes += buffer.readableBytesView.prefix(max(0, Self.limit - bytes.count))
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// The recording page's Object Lock section (a partial of the `object` template): shown only
/// when `lockControls` offers something.
enum LockActionsTemplate {
    static let text = """
        {{#mayLock}}
        <section class="card" id="object-lock" aria-labelledby="object-lock-heading">
          <h2 id="object-lock-heading">Object Lock</h2>
          {{#lockError}}<p class="error" role="alert" id="lock-error">{{lockError}}</p>{{/lockError}}
          {{#mayHold}}
          <form method="post" action="/console/lock/legal-hold" class="inline" id="legal-hold-form">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="bucket" value="{{bucket}}">
            <input type="hidden" name="key" value="{{key}}">
            {{#holdOn}}<input type="hidden" name="legalHold" value="OFF">
            <button type="submit" id="legal-hold" aria-pressed="true"{{#legalHoldInvalid}} aria-invalid="true"{{/legalHoldInvalid}}>Legal hold: on (lift it)</button>{{/holdOn}}
            {{^holdOn}}<input type="hidden" name="legalHold" value="ON">
            <button type="submit" id="legal-hold" aria-pressed="false"{{#legalHoldInvalid}} aria-invalid="true"{{/legalHoldInvalid}}>Legal hold: off (place it)</button>{{/holdOn}}
          </form>
          {{/mayHold}}
          {{#mayRetain}}
          <form method="post" action="/console/lock/retention" id="retention-form">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="bucket" value="{{bucket}}">
            <input type="hidden" name="key" value="{{key}}">
            <label for="lock-mode">Retention mode</label>
            <select id="lock-mode" name="mode"{{#modeInvalid}} aria-invalid="true"{{/modeInvalid}}>{{#modes}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/modes}}{{#mayRemove}}<option value="NONE">none (remove)</option>{{/mayRemove}}</select>
            <label for="lock-until">Retain until (UTC)</label>
            <input id="lock-until" name="retainUntil" type="datetime-local" value="{{retainUntil}}" aria-describedby="lock-until-hint"{{#retainUntilInvalid}} aria-invalid="true"{{/retainUntilInvalid}}>
            <p class="field-hint muted" id="lock-until-hint">COMPLIANCE can only be extended, never shortened or removed; GOVERNANCE only with the bypass.</p>
            {{#mayBypass}}<div class="flag"><input type="checkbox" id="lock-bypass" name="bypassGovernance" value="on"><label for="lock-bypass">Bypass GOVERNANCE retention</label></div>{{/mayBypass}}
            <button type="submit" id="set-retention">Set retention</button>
          </form>
          {{/mayRetain}}
        </section>
        {{/mayLock}}
        """
}
