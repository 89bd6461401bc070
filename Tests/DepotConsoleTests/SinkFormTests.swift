import Testing

@testable import DepotConsole

/// The event sink forms: the admin API document a filled form becomes, and the fields a page
/// shows (never a secret, the field an error names marked).
struct SinkFormTests {
    @Test func aCreateFormBecomesTheFilesDocument() {
        let document = SinkForm.document(
            kind: "kafka",
            form: [
                "brokers": " a:9092, b:9092 ,", "topic": "cams", "tls": "true", "match-events": "created", "match-prefix": "",
                "format": "s3", "sasl-password": "",
            ], current: [:])
        #expect(document["type"] as? String == "kafka")
        #expect(document["brokers"] as? [String] == ["a:9092", "b:9092"])
        #expect(document["tls"] as? Bool == true)
        #expect((document["match"] as? [String: Any])?["events"] as? [String] == ["created"])
        #expect((document["match"] as? [String: Any])?["prefix"] == nil)
        #expect(document["sasl"] == nil)  // nothing typed: no SASL group at all
    }

    @Test func anEditKeepsWhatTheFormDoesNotShowAndABlankSecretStaysMasked() {
        let current: [String: Any] = [
            "name": "hook", "type": "webhook", "url": "http://127.0.0.1/a", "secret": "********",
            "headers": ["Authorization": "********"], "source": "api", "status": ["backlog": 3],
            "match": ["prefix": "old/", "events": ["created"]],
        ]
        let document = SinkForm.document(
            kind: "webhook", form: ["url": "http://127.0.0.1/b", "secret": "", "match-prefix": "new/"], current: current)
        #expect(document["url"] as? String == "http://127.0.0.1/b")
        #expect(document["secret"] as? String == "********")  // the admin API puts the stored one back
        #expect((document["headers"] as? [String: String]) == ["Authorization": "********"])
        #expect(document["source"] == nil && document["status"] == nil)
        #expect((document["match"] as? [String: Any])?["prefix"] as? String == "new/")
        #expect((document["match"] as? [String: Any])?["events"] == nil)  // emptied in the form: the default
    }

    @Test func fieldsNeverShowASecretAndMarkTheFieldTheErrorNames() {
        let current: [String: Any] = ["type": "kafka", "brokers": ["a:1", "b"], "sasl": ["password": "********"]]
        let fields = SinkForm.values(kind: "kafka", idPrefix: "se-", typed: nil, current: current, errorField: "brokers[1]")
        let brokers = fields.first { $0["name"] as? String == "brokers" }
        #expect(brokers?["value"] as? String == "a:1, b" && brokers?["invalid"] as? Bool == true)
        let password = fields.first { $0["name"] as? String == "sasl-password" }
        #expect(password?["isSecret"] as? Bool == true && password?["value"] == nil)
        #expect(password?["hint"] as? String == "stored; leave blank to keep it")
        #expect(fields.filter { $0["invalid"] as? Bool == true }.count == 1)
        for kind in SinkForm.kinds { #expect(!SinkForm.fields(of: kind).isEmpty) }
    }
}
