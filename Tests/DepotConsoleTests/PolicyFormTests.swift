import Testing

@testable import DepotConsole

/// The policy form's admin API document and what its edit form shows of a policy.
struct PolicyFormTests {
    @Test func aFilledFormBecomesTheAdminAPIsDocument() {
        let document = PolicyForm.document([
            "bucket": " rec ", "prefix": "", "tier": "nas1, nas2 ,", "mode": "", "deletes": "true",
            "metadata": "event-instancename = cam3\n\n", "expireAfter": "30d", "expireWhere": "everywhere",
            "lockMode": "GOVERNANCE", "lockDays": "5", "expiredDeleteMarkers": "", "minSize": "1KiB",
        ])
        let match = document["match"] as? [String: Any] ?? [:]
        #expect(match["bucket"] as? String == "rec" && match["prefix"] == nil && match["minSize"] as? String == "1KiB")
        #expect(match["metadata"] as? [String: String] == ["event-instancename": "cam3"])
        let replicate = document["replicate"] as? [String: Any] ?? [:]
        #expect(replicate["to"] as? [String] == ["nas1", "nas2"] && replicate["deletes"] as? Bool == true)
        #expect(replicate["mode"] == nil)  // the admin API's default
        #expect(document["expire"] as? [String: String] == ["after": "30d", "where": "everywhere"])
        #expect(document["lock"] as? [String: String] == ["mode": "GOVERNANCE", "days": "5"])
        #expect(document["transition"] == nil)
    }

    @Test func anEmptyFormMatchesEverythingAndDoesNothing() {
        let document = PolicyForm.document([:])
        #expect(document.keys.sorted() == ["match"])
        #expect(document["match"] as? [String: String] == ["prefix": ""])
    }

    @Test func aPairListWithALineThatIsNotOneIsSentAsTextForTheAdminAPIToRefuse() {
        let match = PolicyForm.document(["tags": "a=1\nnot a pair"])["match"] as? [String: Any]
        #expect(match?["tags"] as? String == "a=1\nnot a pair")
    }

    @Test func theEditFormShowsThePolicyAsTheAdminAPIDescribesIt() {
        let policy: [String: Any] = [
            "match": ["prefix": "cam/", "tags": ["b": "2", "a": "1"], "maxSize": 1024],
            "replicate": ["to": ["nas1", "nas2"], "mode": "on-demand", "deletes": true],
            "expire": ["after": "2592000s", "where": "local", "noncurrentAfter": "90s"],
            "lock": ["mode": "COMPLIANCE", "years": 2],
        ]
        let rows = PolicyForm.values(idPrefix: "pe", typed: nil, current: policy, invalid: "lock")
            .flatMap { $0["fields"] as? [[String: Any]] ?? [] }
        func row(_ name: String) -> [String: Any] { rows.first { $0["name"] as? String == name } ?? [:] }
        #expect(row("prefix")["value"] as? String == "cam/" && row("tags")["value"] as? String == "a=1\nb=2")
        #expect(row("tier")["value"] as? String == "nas1, nas2" && row("deletes")["checked"] as? Bool == true)
        #expect(row("expireAfter")["value"] as? String == "30d" && row("noncurrentAfter")["value"] as? String == "90s")
        #expect(row("maxSize")["value"] as? String == "1024" && row("lockYears")["value"] as? String == "2")
        // An error naming a whole part (`lock`) marks its fields, and only them.
        #expect(
            rows.filter { $0["invalid"] as? Bool == true }.compactMap { $0["name"] as? String } == [
                "lockMode", "lockDays", "lockYears",
            ])
        // The document of the form as shown is the policy again.
        var typed: [String: String] = [:]
        for row in rows { typed[row["name"] as! String] = (row["value"] as? String) ?? "" }
        let again = PolicyForm.document(typed)
        #expect(again["lock"] as? [String: String] == ["mode": "COMPLIANCE", "years": "2"])
        #expect((again["replicate"] as? [String: Any])?["mode"] as? String == "on-demand")
    }
}
