import Testing

@testable import DepotConsole

/// The tier and policy forms' documents for the admin API, and what the tier form shows.
struct TierFormTests {
    @Test func emptyFieldsAreLeftOutAndAnUntickedBoxIsFalse() {
        let document = TierForm.document(
            kind: "s3", form: ["endpoint": " http://s3.example ", "bucket": "b", "region": "", "pathStyle": "true"],
            current: nil)
        #expect(document["type"] as? String == "s3")
        #expect(document["endpoint"] as? String == "http://s3.example")
        #expect(document["region"] == nil && document["secretKey"] == nil)
        #expect(document["pathStyle"] as? Bool == true && document["objectLock"] as? Bool == false)
        #expect(document["path"] == nil)  // another type's field is never sent
    }

    @Test func aBlankSecretIsSentMaskedOnlyWhenTheTierHoldsOne() {
        let current: [String: Any] = ["accountKey": TierForm.masked]  // a key, no SAS
        let kept = TierForm.document(kind: "azure", form: ["accountKey": "", "sas": ""], current: current)
        #expect(kept["accountKey"] as? String == TierForm.masked && kept["sas"] == nil)
        let typed = TierForm.document(kind: "azure", form: ["accountKey": "bmV3", "sas": ""], current: current)
        #expect(typed["accountKey"] as? String == "bmV3")
        #expect(TierForm.document(kind: "azure", form: [:], current: nil)["accountKey"] == nil)
    }

    @Test func aKeyFileReplacesTheStoredGCSKey() {
        let current: [String: Any] = ["credentials": TierForm.masked]
        let document = TierForm.document(kind: "gcs", form: ["credentialsFile": "/etc/key.json"], current: current)
        #expect(document["credentials"] == nil && document["credentialsFile"] as? String == "/etc/key.json")
        #expect(TierForm.document(kind: "gcs", form: [:], current: current)["credentials"] as? String == TierForm.masked)
    }

    @Test func encryptionIsOneFieldForTheAdminAPI() {
        let plain = TierForm.document(kind: "s3", form: ["serverSideEncryption": "AES256"], current: nil)
        #expect(plain["serverSideEncryption"] as? String == "AES256")
        let kms = TierForm.document(kind: "s3", form: ["serverSideEncryption": "aws:kms", "kmsKeyId": "k1"], current: nil)
        let object = kms["serverSideEncryption"] as? [String: Any]
        #expect(object?["algorithm"] as? String == "aws:kms" && object?["kmsKeyId"] as? String == "k1")
        #expect(kms["kmsKeyId"] == nil)
    }

    @Test func secretsAreNeverShownAndTheEditSaysBlankKeepsThem() {
        let current: [String: Any] = [
            "secretKey": "********", "accessKey": "AK", "failingAfterSeconds": 600, "pathStyle": false,
            "serverSideEncryption": ["algorithm": "aws:kms", "kmsKeyId": "k1"],
        ]
        let rows = TierForm.values(kind: "s3", idPrefix: "e", typed: nil, current: current, editing: true)
        func row(_ name: String) -> [String: Any] { rows.first { $0["name"] as? String == name } ?? [:] }
        #expect(row("secretKey")["value"] as? String == "")
        #expect((row("secretKey")["label"] as? String ?? "").hasSuffix("(leave blank to keep)"))
        #expect(row("secretKey")["id"] as? String == "e-secret" && row("accessKey")["id"] as? String == "e-access")
        #expect(row("accessKey")["value"] as? String == "AK" && row("failingAfter")["value"] as? String == "10m")
        #expect(row("pathStyle")["checked"] as? Bool == false && row("includeBucket")["checked"] as? Bool == false)
        #expect(row("serverSideEncryption")["value"] as? String == "aws:kms" && row("kmsKeyId")["value"] as? String == "k1")
        // A refused create shows what was typed, but not a typed secret.
        let typed = TierForm.values(
            kind: "vault", idPrefix: "t", typed: ["secretKey": "typed-secret", "provider": "p"], current: nil, editing: false)
        #expect(typed.allSatisfy { $0["value"] as? String != "typed-secret" })
    }

    @Test func theFieldAnErrorNamesIsMarked() {
        let rows = TierForm.values(kind: "s3", idPrefix: "t", typed: [:], current: nil, editing: false)
        let marked = ConsoleService.marked(rows, invalid: "serverSideEncryption.algorithm")
        #expect(marked.filter { $0["invalid"] as? Bool == true }.compactMap { $0["name"] as? String } == ["serverSideEncryption"])
        #expect(ConsoleService.marked(rows, invalid: nil).allSatisfy { $0["invalid"] as? Bool == false })
    }
}
