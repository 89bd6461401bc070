import Testing

@testable import DepotConsole

/// The account page's grants form: its rows, and a refusal of the admin API turned to name the
/// form's own row (blank and removed rows are not sent, so the API's index differs).
struct AccountGrantFormTests {
    @Test func theAccountsGrantsThenOneBlankRowToAdd() {
        let rows = ConsoleService.grantRows(allow: [
            ["bucket": "rec", "prefix": "cam1/", "actions": ["read", "list"]], ["actions": ["write"]],
        ])
        #expect(rows.count == 3)
        #expect(rows[0]["bucket"] as? String == "rec" && rows[0]["prefix"] as? String == "cam1/")
        #expect(rows[1]["bucket"] as? String == "*")  // no bucket is the admin API's every bucket
        #expect(rows[2]["blank"] as? Bool == true && rows[2]["legend"] as? String == "Add a grant")
        let checked = (rows[0]["actions"] as? [[String: Any]] ?? []).filter { $0["checked"] as? Bool == true }
        #expect(checked.compactMap { $0["action"] as? String } == ["read", "list"])
    }

    @Test func aRefusedFormIsShownAsSentWithARemoveMarkAndABlankRowAgain() {
        let form = [
            "rows": "2", "bucket-0": "rec", "action-0-read": "1", "remove-0": "1", "bucket-1": "rec", "action-1-admin": "1",
        ]
        let rows = ConsoleService.grantRows(form: form)
        #expect(rows.count == 3)
        #expect(rows[0]["removed"] as? Bool == true && rows[1]["removed"] as? Bool == false)
        #expect(rows[2]["blank"] as? Bool == true && rows[1]["blank"] as? Bool == false)
        // A form that claims more rows than any account has is read no further than the limit.
        #expect(ConsoleService.grantRows(form: ["rows": "99999999"]).count == ConsoleService.maximumGrantRows)
    }

    @Test func theAPIsGrantIndexBecomesTheFormsRow() {
        let refusal = AdminAnswer(status: 400, object: ["error": "server-wide", "field": "allow[1].actions"])
        let named = ConsoleService.namingFormRow(refusal, [0, 2])
        #expect(named.error == "allow[2].actions: (grant 3) server-wide")
        // Fields that are not a sent grant's are left as the API named them.
        for field in ["name", "allow[7].actions", "allow[x]"] {
            let other = AdminAnswer(status: 400, object: ["error": "bad", "field": field])
            #expect(ConsoleService.namingFormRow(other, [0, 2]).error == "\(field): bad")
        }
    }
}
