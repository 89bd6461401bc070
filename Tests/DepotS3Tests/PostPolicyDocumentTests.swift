import DepotHashing
import Foundation
import Testing

@testable import DepotS3

/// The browser form's policy document, checked alone (the `post-policy` fuzz target's subject):
/// conditions over the form's fields, coverage of every field, expiry, and the allowed length.
struct PostPolicyDocumentTests {
    static let now: Int64 = 1_900_000_000  // 2030-03-17

    static func document(_ json: String) throws -> PostPolicyDocument {
        try PostPolicyDocument(base64: Base64.encode(Array(json.utf8)))
    }

    static let policy = """
        {"expiration": "2031-01-01T00:00:00.000Z", "conditions": [{"bucket": "rec"}, ["starts-with", "$key", "uploads/"],
         {"success_action_status": "201"}, ["content-length-range", 1, 1048576], ["eq", "$Content-Type", "video/mp4"]]}
        """

    @Test func aFormWithinThePolicyPasses() throws {
        let (key, policy) = try Self.document(Self.policy).evaluate(
            fields: [
                "key": "uploads/${filename}", "success_action_status": "201", "content-type": "video/mp4", "x-ignore-me": "1",
            ],
            bucket: "rec", filename: "clip.mp4", fileContentType: nil, now: Self.now)
        #expect(key == "uploads/clip.mp4")
        #expect(policy.successStatus == 201 && policy.minimumLength == 1 && policy.maximumLength == 1_048_576)
        #expect(policy.contentType == "video/mp4")
    }

    @Test func whatThePolicyDoesNotAllowIsRefused() throws {
        let document = try Self.document(Self.policy)
        let base = ["key": "uploads/a", "success_action_status": "201", "content-type": "video/mp4"]
        func code(_ fields: [String: String], now: Int64 = Self.now) -> String? {
            do {
                _ = try document.evaluate(fields: fields, bucket: "rec", filename: "a", fileContentType: nil, now: now)
                return nil
            } catch {
                return (error as? S3Error)?.code
            }
        }
        #expect(code(base) == nil)
        #expect(code(base.merging(["key": "elsewhere/a"]) { $1 }) == "AccessDenied")
        #expect(code(base.merging(["extra": "1"]) { $1 }) == "AccessDenied")
        #expect(code(base.merging(["key": ""]) { $1 }) == "InvalidArgument")
        #expect(code(base, now: 1_924_992_000) == "AccessDenied")  // 2031-01-01: expired
        #expect(code(base.merging(["bucket": "other"]) { $1 }) == nil)  // the form's bucket field never wins over the path's
    }

    @Test(arguments: [
        "not base64!", Base64.encode(Array("[]".utf8)), Base64.encode(Array(#"{"conditions": []}"#.utf8)),
        Base64.encode(Array(#"{"expiration": "tomorrow", "conditions": []}"#.utf8)),
    ])
    func aDocumentThatIsNotAPolicyIsInvalid(_ encoded: String) {
        #expect(throws: S3Error.self) { try PostPolicyDocument(base64: encoded) }
    }

    @Test func badConditionsAreInvalidPolicy() throws {
        for condition in [#"["eq", "key"]"#, #"["eq", "key", "a"]"#, #"[1, "$key", "a"]"#, "5"] {
            let document = try Self.document(#"{"expiration": "2031-01-01T00:00:00Z", "conditions": [\#(condition)]}"#)
            #expect(throws: S3Error.self, "\(condition)") {
                try document.evaluate(fields: ["key": "a"], bucket: "rec", filename: "", fileContentType: nil, now: Self.now)
            }
        }
    }
}
