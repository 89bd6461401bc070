import Testing

@testable import DepotS3

/// The bucket policy language (Policy/): parsing refuses what AWS refuses and names the problem;
/// evaluation follows the documented rule (explicit Deny wins).
struct BucketPolicyTests {
    func parse(_ text: String, bucket: String = "cams") throws -> BucketPolicy {
        try BucketPolicy(parsing: Array(text.utf8), bucket: bucket)
    }

    func problem(_ text: String) -> String {
        do {
            _ = try parse(text)
            return "accepted"
        } catch let problem as PolicyProblem {
            return problem.message
        } catch {
            return "\(error)"
        }
    }

    func statement(_ body: String) -> String { #"{"Version":"2012-10-17","Statement":[{\#(body)}]}"# }

    func ask(
        _ policy: BucketPolicy, _ action: String, key: String? = nil, principal: PolicyPrincipal = .anonymous,
        facts: PolicyFacts = PolicyFacts(sourceIP: "10.1.2.3", secureTransport: false, now: 1_800_000_000)
    ) -> AccessVerdict {
        policy.evaluate(PolicyQuestion(principal: principal, action: action, bucket: "cams", key: key, facts: facts))
    }

    @Test func mcDownloadPolicyGrantsReadsOfItsPrefixOnly() throws {
        let policy = try parse(
            #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetBucketLocation"],"Resource":["arn:aws:s3:::cams"]},{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::cams"],"Condition":{"StringEquals":{"s3:prefix":["public"]}}},{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::cams/public*"]}]}"#
        )
        #expect(policy.isPublic)
        #expect(ask(policy, "s3:GetObject", key: "public/a.mp4") == .allow)
        #expect(ask(policy, "s3:GetObject", key: "private/a.mp4") == .none)
        #expect(ask(policy, "s3:PutObject", key: "public/a.mp4") == .none)
        #expect(ask(policy, "s3:GetBucketLocation") == .allow)
        var facts = PolicyFacts(sourceIP: nil, secureTransport: false, now: 0)
        #expect(ask(policy, "s3:ListBucket", facts: facts) == .none)
        facts.values["s3:prefix"] = "public"
        #expect(ask(policy, "s3:ListBucket", facts: facts) == .allow)
        facts.values["s3:prefix"] = "private"
        #expect(ask(policy, "s3:ListBucket", facts: facts) == .none)
    }

    @Test func actionWildcardsAndNotAction() throws {
        let gets = try parse(statement(#""Effect":"Allow","Principal":"*","Action":"s3:Get*","Resource":"arn:aws:s3:::cams/*""#))
        #expect(ask(gets, "s3:GetObject", key: "k") == .allow)
        #expect(ask(gets, "s3:GetObjectTagging", key: "k") == .allow)
        #expect(ask(gets, "s3:PutObject", key: "k") == .none)
        let all = try parse(statement(#""Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::cams/*""#))
        #expect(ask(all, "s3:DeleteObject", key: "k") == .allow)
        // Actions compare without case.
        let lower = try parse(
            statement(#""Effect":"Allow","Principal":"*","Action":"s3:getobject","Resource":"arn:aws:s3:::cams/*""#))
        #expect(ask(lower, "s3:GetObject", key: "k") == .allow)
        let notDelete = try parse(
            statement(
                #""Effect":"Deny","Principal":"*","NotAction":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::cams/*""#)
        )
        #expect(ask(notDelete, "s3:DeleteObject", key: "k") == .deny)
        #expect(ask(notDelete, "s3:GetObject", key: "k") == .none)
    }

    @Test func resourceWildcardsAndNotResource() throws {
        let policy = try parse(
            statement(#""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::cams/cam-?/*.mp4""#))
        #expect(ask(policy, "s3:GetObject", key: "cam-1/a.mp4") == .allow)
        #expect(ask(policy, "s3:GetObject", key: "cam-12/a.mp4") == .none)
        #expect(ask(policy, "s3:GetObject", key: "cam-1/a.jpg") == .none)
        let not = try parse(
            statement(#""Effect":"Deny","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::cams/public/*""#))
        #expect(ask(not, "s3:GetObject", key: "secret/a") == .deny)
        #expect(ask(not, "s3:GetObject", key: "public/a") == .none)
        // Resources compare with case.
        #expect(ask(policy, "s3:GetObject", key: "CAM-1/a.mp4") == .none)
    }

    @Test func denyWinsOverAllow() throws {
        let policy = try parse(
            #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::cams/*"},{"Effect":"Deny","Principal":{"AWS":"CAM1"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::cams/*"}]}"#
        )
        let cam1 = PolicyPrincipal.account(accessKey: "CAM1", name: "camera-1")
        #expect(ask(policy, "s3:DeleteObject", key: "a", principal: cam1) == .deny)
        #expect(ask(policy, "s3:DeleteObject", key: "a", principal: .account(accessKey: "OTHER", name: "o")) == .allow)
        #expect(ask(policy, "s3:GetObject", key: "a", principal: cam1) == .allow)
    }

    @Test func principalsNameAccessKeysOrIamArns() throws {
        let policy = try parse(
            statement(
                #""Effect":"Allow","Principal":{"AWS":["CAM1","arn:aws:iam::123456789012:user/viewer","arn:aws:iam::MLKEY:root"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::cams/*""#
            ))
        #expect(!policy.isPublic)
        #expect(ask(policy, "s3:GetObject", key: "a", principal: .account(accessKey: "CAM1", name: "x")) == .allow)
        #expect(ask(policy, "s3:GetObject", key: "a", principal: .account(accessKey: "VIEWKEY", name: "viewer")) == .allow)
        #expect(ask(policy, "s3:GetObject", key: "a", principal: .account(accessKey: "MLKEY", name: "ml")) == .allow)
        #expect(ask(policy, "s3:GetObject", key: "a", principal: .account(accessKey: "CAM2", name: "camera-2")) == .none)
        #expect(ask(policy, "s3:GetObject", key: "a", principal: .anonymous) == .none)
    }

    func conditionPolicy(_ condition: String, action: String = "s3:ListBucket", resource: String = "arn:aws:s3:::cams")
        throws -> BucketPolicy
    {
        try parse(
            statement(
                #""Effect":"Allow","Principal":"*","Action":"\#(action)","Resource":"\#(resource)","Condition":\#(condition)"#))
    }

    func facts(_ values: [String: String] = [:], ip: String? = "10.1.2.3", secure: Bool = false, now: Int64 = 1_800_000_000)
        -> PolicyFacts
    {
        PolicyFacts(sourceIP: ip, secureTransport: secure, now: now, values: values)
    }

    @Test func stringOperators() throws {
        let equals = try conditionPolicy(#"{"StringEquals":{"s3:prefix":["a/","b/"]}}"#)
        #expect(ask(equals, "s3:ListBucket", facts: facts(["s3:prefix": "b/"])) == .allow)
        #expect(ask(equals, "s3:ListBucket", facts: facts(["s3:prefix": "c/"])) == .none)
        #expect(ask(equals, "s3:ListBucket", facts: facts()) == .none)
        let like = try conditionPolicy(#"{"StringLike":{"s3:prefix":"cam-*/"}}"#)
        #expect(ask(like, "s3:ListBucket", facts: facts(["s3:prefix": "cam-7/"])) == .allow)
        #expect(ask(like, "s3:ListBucket", facts: facts(["s3:prefix": "other/"])) == .none)
        let notLike = try conditionPolicy(#"{"StringNotLike":{"s3:prefix":"private*"}}"#)
        #expect(ask(notLike, "s3:ListBucket", facts: facts(["s3:prefix": "public/"])) == .allow)
        #expect(ask(notLike, "s3:ListBucket", facts: facts(["s3:prefix": "private/"])) == .none)
        // A key the request does not carry: negated operators hold.
        #expect(ask(notLike, "s3:ListBucket", facts: facts()) == .allow)
        let version = try conditionPolicy(
            #"{"StringEquals":{"s3:VersionId":"v1"}}"#, action: "s3:GetObjectVersion", resource: "arn:aws:s3:::cams/*")
        #expect(ask(version, "s3:GetObjectVersion", key: "k", facts: facts(["s3:versionid": "v1"])) == .allow)
        #expect(ask(version, "s3:GetObjectVersion", key: "k", facts: facts(["s3:versionid": "v2"])) == .none)
        let delimiter = try conditionPolicy(#"{"StringEquals":{"s3:delimiter":"/"}}"#)
        #expect(ask(delimiter, "s3:ListBucket", facts: facts(["s3:delimiter": "/"])) == .allow)
        let acl = try conditionPolicy(
            #"{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}"#, action: "s3:PutObject",
            resource: "arn:aws:s3:::cams/*")
        #expect(ask(acl, "s3:PutObject", key: "k", facts: facts(["s3:x-amz-acl": "bucket-owner-full-control"])) == .allow)
        #expect(ask(acl, "s3:PutObject", key: "k", facts: facts(["s3:x-amz-acl": "public-read"])) == .none)
    }

    @Test func ipOperators() throws {
        let inside = try conditionPolicy(#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}"#)
        #expect(!inside.isPublic)
        #expect(ask(inside, "s3:ListBucket", facts: facts(ip: "10.200.0.1")) == .allow)
        #expect(ask(inside, "s3:ListBucket", facts: facts(ip: "192.168.0.1")) == .none)
        #expect(ask(inside, "s3:ListBucket", facts: facts(ip: "2001:db8::5")) == .allow)
        #expect(ask(inside, "s3:ListBucket", facts: facts(ip: "::ffff:10.1.1.1")) == .allow)
        let outside = try conditionPolicy(#"{"NotIpAddress":{"aws:SourceIp":"127.0.0.1/32"}}"#)
        #expect(ask(outside, "s3:ListBucket", facts: facts(ip: "127.0.0.1")) == .none)
        #expect(ask(outside, "s3:ListBucket", facts: facts(ip: "127.0.0.2")) == .allow)
        // A range wider than /8 leaves the grant public.
        #expect(try conditionPolicy(#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#).isPublic)
    }

    @Test func boolNumericAndDateOperators() throws {
        let tls = try conditionPolicy(#"{"Bool":{"aws:SecureTransport":"true"}}"#)
        #expect(ask(tls, "s3:ListBucket", facts: facts(secure: true)) == .allow)
        #expect(ask(tls, "s3:ListBucket", facts: facts(secure: false)) == .none)
        let jsonBool = try conditionPolicy(#"{"Bool":{"aws:SecureTransport":false}}"#)
        #expect(ask(jsonBool, "s3:ListBucket", facts: facts(secure: false)) == .allow)
        let small = try conditionPolicy(#"{"NumericLessThan":{"s3:max-keys":"11"}}"#)
        #expect(ask(small, "s3:ListBucket", facts: facts(["s3:max-keys": "10"])) == .allow)
        #expect(ask(small, "s3:ListBucket", facts: facts(["s3:max-keys": "11"])) == .none)
        #expect(ask(small, "s3:ListBucket", facts: facts()) == .none)
        let numberValue = try conditionPolicy(#"{"NumericLessThan":{"s3:max-keys":100}}"#)
        #expect(ask(numberValue, "s3:ListBucket", facts: facts(["s3:max-keys": "99"])) == .allow)
        // 2027-01-15T08:00:00Z is 1_800_000_000.
        let before = try conditionPolicy(#"{"DateLessThan":{"aws:CurrentTime":"2027-01-15T08:00:01Z"}}"#)
        #expect(ask(before, "s3:ListBucket", facts: facts(now: 1_800_000_000)) == .allow)
        #expect(ask(before, "s3:ListBucket", facts: facts(now: 1_800_000_001)) == .none)
        let fractional = try conditionPolicy(#"{"DateGreaterThan":{"aws:CurrentTime":"2027-01-15T07:59:59.5Z"}}"#)
        #expect(ask(fractional, "s3:ListBucket", facts: facts(now: 1_800_000_000)) == .allow)
        let dateOnly = try conditionPolicy(#"{"DateLessThan":{"aws:CurrentTime":"2027-01-16"}}"#)
        #expect(ask(dateOnly, "s3:ListBucket", facts: facts(now: 1_800_000_000)) == .allow)
        let epoch = try conditionPolicy(#"{"DateLessThan":{"aws:EpochTime":"1800000000"}}"#)
        #expect(ask(epoch, "s3:ListBucket", facts: facts(now: 1_799_999_999)) == .allow)
        // Conditions of one statement must all hold.
        let both = try conditionPolicy(#"{"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#)
        #expect(ask(both, "s3:ListBucket", facts: facts(ip: "10.0.0.1", secure: true)) == .allow)
        #expect(ask(both, "s3:ListBucket", facts: facts(ip: "11.0.0.1", secure: true)) == .none)
    }

    /// Every operator, each with a request value that satisfies it and one that does not.
    @Test func everyConditionOperator() throws {
        let cases: [(op: String, key: String, policyValue: String, holds: String, fails: String)] = [
            ("StringEquals", "s3:prefix", "a/", "a/", "A/"),
            ("StringNotEquals", "s3:prefix", "a/", "b/", "a/"),
            ("StringEqualsIgnoreCase", "s3:prefix", "a/", "A/", "b/"),
            ("StringNotEqualsIgnoreCase", "s3:prefix", "a/", "b/", "A/"),
            ("StringLike", "s3:prefix", "a*", "abc", "bcd"),
            ("StringNotLike", "s3:prefix", "a*", "bcd", "abc"),
            ("NumericEquals", "s3:max-keys", "10", "10", "11"),
            ("NumericNotEquals", "s3:max-keys", "10", "11", "10"),
            ("NumericLessThan", "s3:max-keys", "10", "9", "10"),
            ("NumericLessThanEquals", "s3:max-keys", "10", "10", "11"),
            ("NumericGreaterThan", "s3:max-keys", "10", "11", "10"),
            ("NumericGreaterThanEquals", "s3:max-keys", "10", "10", "9"),
            ("DateEquals", "aws:EpochTime", "2027-01-15T08:00:00Z", "1800000000", "1800000001"),
            ("DateNotEquals", "aws:EpochTime", "2027-01-15T08:00:00Z", "1800000001", "1800000000"),
            ("DateLessThan", "aws:EpochTime", "2027-01-15T08:00:00Z", "1799999999", "1800000000"),
            ("DateLessThanEquals", "aws:EpochTime", "2027-01-15T08:00:00Z", "1800000000", "1800000001"),
            ("DateGreaterThan", "aws:EpochTime", "2027-01-15T08:00:00Z", "1800000001", "1800000000"),
            ("DateGreaterThanEquals", "aws:EpochTime", "2027-01-15T08:00:00Z", "1800000000", "1799999999"),
            ("Bool", "aws:SecureTransport", "true", "true", "false"),
            ("IpAddress", "aws:SourceIp", "192.168.0.0/16", "192.168.4.5", "192.169.0.1"),
            ("NotIpAddress", "aws:SourceIp", "192.168.0.0/16", "192.169.0.1", "192.168.4.5"),
        ]
        #expect(Set(cases.map(\.op)).union(["Null"]) == Set(PolicyCondition.Operator.allCases.map(\.rawValue)))
        func facts(_ key: String, _ value: String) -> PolicyFacts {
            switch key {
            case "aws:EpochTime": PolicyFacts(sourceIP: nil, secureTransport: false, now: Int64(value)!)
            case "aws:SecureTransport": PolicyFacts(sourceIP: nil, secureTransport: value == "true", now: 0)
            case "aws:SourceIp": PolicyFacts(sourceIP: value, secureTransport: false, now: 0)
            default: PolicyFacts(sourceIP: nil, secureTransport: false, now: 0, values: [key: value])
            }
        }
        for c in cases {
            let policy = try conditionPolicy(#"{"\#(c.op)":{"\#(c.key)":"\#(c.policyValue)"}}"#)
            #expect(ask(policy, "s3:ListBucket", facts: facts(c.key, c.holds)) == .allow, "\(c.op) \(c.holds)")
            #expect(ask(policy, "s3:ListBucket", facts: facts(c.key, c.fails)) == .none, "\(c.op) \(c.fails)")
        }
        // Null: whether the request carries the key at all.
        let absent = try conditionPolicy(#"{"Null":{"s3:prefix":"true"}}"#)
        #expect(ask(absent, "s3:ListBucket", facts: facts("s3:delimiter", "/")) == .allow)
        #expect(ask(absent, "s3:ListBucket", facts: facts("s3:prefix", "a")) == .none)
        let present = try conditionPolicy(#"{"Null":{"s3:prefix":"false"}}"#)
        #expect(ask(present, "s3:ListBucket", facts: facts("s3:prefix", "a")) == .allow)
    }

    @Test func malformedPoliciesNameTheProblem() {
        let allow = #""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::cams/*""#
        #expect(problem("not json").contains("valid JSON"))
        #expect(problem("[]").contains("first byte"))
        #expect(problem(#"{"Version":"2012-10-17"}"#).contains("Statement"))
        #expect(problem(#"{"Version":"2019-01-01","Statement":[{\#(allow)}]}"#).contains("Version"))
        #expect(problem(#"{"Statement":[{\#(allow)}],"Extra":1}"#).contains("Unknown field 'Extra'"))
        #expect(
            problem(statement(#""Effect":"Maybe","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::cams/*""#))
                .contains("invalid effect 'Maybe'"))
        #expect(
            problem(statement(#""Effect":"Allow","Principal":"*","Action":"s3:GetObjekt","Resource":"arn:aws:s3:::cams/*""#))
                .contains("invalid action 's3:GetObjekt'"))
        #expect(
            problem(statement(#""Effect":"Allow","Principal":"*","Action":"ec2:RunInstances","Resource":"arn:aws:s3:::cams/*""#))
                .contains("invalid action 'ec2:RunInstances'"))
        #expect(
            problem(statement(#""Effect":"Allow","Principal":"*","Action":"s3:Foo*","Resource":"arn:aws:s3:::cams/*""#))
                .contains("invalid action 's3:Foo*'"))
        #expect(
            problem(statement(#""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*""#))
                .contains("not in bucket cams"))
        #expect(
            problem(statement(#""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"cams/*""#))
                .contains("invalid resource 'cams/*'"))
        #expect(
            problem(statement(#""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::cams""#))
                .contains("does not apply to any resource"))
        #expect(
            problem(statement(#""Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::cams/*""#))
                .contains("Principal"))
        #expect(
            problem(
                statement(
                    #""Effect":"Allow","Principal":{"Service":"x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::cams/*""#)
            )
            .contains("unsupported principal type 'Service'"))
        #expect(
            problem(statement(#"\#(allow),"Condition":{"StringSorta":{"s3:prefix":"a"}}"#))
                .contains("unknown condition operator 'StringSorta'"))
        #expect(
            problem(statement(#"\#(allow),"Condition":{"StringEquals":{"s3:nothing":"a"}}"#))
                .contains("unknown condition key 's3:nothing'"))
        #expect(
            problem(statement(#"\#(allow),"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}"#))
                .contains("invalid value '10.0.0.0/33'"))
        #expect(
            problem(statement(#"\#(allow),"Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}"#))
                .contains("invalid value 'tomorrow'"))
        #expect(
            problem(statement(#"\#(allow),"Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}"#))
                .contains("invalid value 'ten'"))
        #expect(problem(#"{"Statement":[{"Sid":"a",\#(allow)},{"Sid":"a",\#(allow)}]}"#).contains("unique"))
        // Empty Sids (minio-go writes one in every statement) are no ids.
        #expect(problem(#"{"Statement":[{"Sid":"",\#(allow)},{"Sid":"",\#(allow)}]}"#) == "accepted")
        #expect(
            problem(
                statement(
                    #""Effect":"Allow","Principal":"*","Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"arn:aws:s3:::cams/*""#
                )
            )
            .contains("cannot both"))
        #expect(problem(String(repeating: " ", count: 21 * 1024) + "{}").contains("maximum allowed document size"))
        // What AWS's policy generator writes parses.
        #expect(
            problem(
                #"{"Id":"Policy1","Version":"2012-10-17","Statement":[{"Sid":"Stmt1","Action":["s3:GetObject"],"Effect":"Allow","Resource":"arn:aws:s3:::cams/*","Principal":"*"}]}"#
            ) == "accepted")
    }

    /// Bad input gets MalformedPolicy, never a crash: every truncation of a policy that uses every
    /// part of the language, and seeded random byte changes to it, parse or throw PolicyProblem.
    @Test func truncatedAndMutatedPoliciesAreRefusedNotCrashed() {
        let text =
            #"{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"a","Effect":"Allow","Principal":{"AWS":["*","CAM1"]},"Action":["s3:Get*","s3:ListBucket"],"Resource":["arn:aws:s3:::cams","arn:aws:s3:::cams/p?/*"],"Condition":{"StringLike":{"s3:prefix":["p*"]},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]},"NumericLessThan":{"s3:max-keys":10},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00.5Z"},"Bool":{"aws:SecureTransport":true}}},{"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","NotResource":"arn:aws:s3:::cams/public/*"}]}"#
        let bytes = Array(text.utf8)
        #expect(problem(text) == "accepted")
        func survives(_ input: [UInt8]) -> Bool {
            do {
                let policy = try BucketPolicy(parsing: input, bucket: "cams")
                _ = policy.evaluate(
                    PolicyQuestion(
                        principal: .anonymous, action: "s3:GetObject", bucket: "cams", key: "p1/a",
                        facts: PolicyFacts(sourceIP: "10.0.0.1", secureTransport: true, now: 0, values: ["s3:max-keys": "x"])))
                return true
            } catch is PolicyProblem {
                return true
            } catch {
                return false
            }
        }
        // Deep nesting inside the size limit is refused, not a stack overflow.
        #expect(survives(Array((String(repeating: "[", count: 10000) + String(repeating: "]", count: 10000)).utf8)))
        #expect(
            survives(
                Array(
                    (#"{"Statement":"# + String(repeating: #"{"a":"#, count: 3000) + "1" + String(repeating: "}", count: 3001))
                        .utf8)))
        for length in 0..<bytes.count { #expect(survives(Array(bytes[..<length])), "truncated at \(length)") }
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            seed ^= seed << 13
            seed ^= seed >> 7
            seed ^= seed << 17
            return seed
        }
        let alphabet = Array(#"{}[]":,*?/\ aZ09.-"#.utf8) + [0, 0xFF]
        for round in 0..<3000 {
            var input = bytes
            for _ in 0..<(1 + Int(next() % 4)) {
                let at = Int(next() % UInt64(input.count))
                input[at] = alphabet[Int(next() % UInt64(alphabet.count))]
            }
            #expect(survives(input), "mutation round \(round)")
        }
    }

    @Test func wildcardMatching() {
        #expect(PolicyWildcard.matches("a*b*c", "axxbyyc"))
        #expect(!PolicyWildcard.matches("a*b*c", "axxbyy"))
        #expect(PolicyWildcard.matches("*", ""))
        #expect(PolicyWildcard.matches("a?c", "abc"))
        #expect(!PolicyWildcard.matches("a?c", "ac"))
        #expect(PolicyWildcard.matches("S3:GET*", "s3:getobject", ignoringCase: true))
        // Many stars stay linear-ish (no exponential backtracking).
        #expect(!PolicyWildcard.matches(String(repeating: "*a", count: 50) + "b", String(repeating: "a", count: 1000)))
    }

    @Test func publicAccessBlockXML() throws {
        let block = try PublicAccessBlock(
            xml: Array(
                "<PublicAccessBlockConfiguration><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>TRUE</RestrictPublicBuckets></PublicAccessBlockConfiguration>"
                    .utf8))
        #expect(block == PublicAccessBlock(blockPublicPolicy: true, restrictPublicBuckets: true))
        #expect(try PublicAccessBlock(xml: Array(block.xml.text.utf8)) == block)
        #expect(throws: S3Error.self) {
            try PublicAccessBlock(
                xml: Array(
                    "<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>".utf8
                ))
        }
    }

    @Test func restrictPublicBucketsIgnoresPublicGrants() throws {
        let policy = try parse(
            statement(#""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::cams/*""#))
        let q = PolicyQuestion(
            principal: .anonymous, action: "s3:GetObject", bucket: "cams", key: "a",
            facts: PolicyFacts(sourceIP: nil, secureTransport: false, now: 0))
        #expect(policy.evaluate(q, ignoringPublicGrants: true) == .none)
        #expect(policy.evaluate(q) == .allow)
    }

    @Test func everyEndpointWithABucketHasAPolicyAction() {
        #expect(PolicyActions.action(for: .getObject) == "s3:GetObject")
        #expect(PolicyActions.action(for: .getObject, versioned: true) == "s3:GetObjectVersion")
        #expect(PolicyActions.action(for: .listObjectsV2) == "s3:ListBucket")
        #expect(PolicyActions.action(for: .deleteObject) == "s3:DeleteObject")
        #expect(PolicyActions.action(for: .getObjectTagging) == "s3:GetObjectTagging")
        #expect(PolicyActions.action(for: .uploadPart) == "s3:PutObject")
        // Every action the table produces is one a policy may name.
        let endpoints: [S3Endpoint] = [
            .listBuckets, .createBucket, .headBucket, .deleteBucket, .getBucketLocation, .listObjects, .listObjectsV2,
            .listObjectVersions, .listMultipartUploads, .getBucketTagging, .putBucketTagging, .deleteBucketTagging,
            .getBucketAcl, .putBucketAcl, .getBucketVersioning, .putBucketVersioning, .getObjectLockConfiguration,
            .putObjectLockConfiguration, .getObjectRetention, .putObjectRetention, .getObjectLegalHold, .putObjectLegalHold,
            .getBucketPolicy, .putBucketPolicy, .deleteBucketPolicy, .getBucketPolicyStatus, .getPublicAccessBlock,
            .putPublicAccessBlock, .deletePublicAccessBlock, .deleteObjects, .postObject, .putObject, .copyObject, .getObject,
            .headObject, .deleteObject, .createMultipartUpload, .uploadPart, .uploadPartCopy, .completeMultipartUpload,
            .abortMultipartUpload, .listParts, .getObjectTagging, .putObjectTagging, .deleteObjectTagging, .getObjectAcl,
            .putObjectAcl, .getObjectAttributes,
        ]
        for endpoint in endpoints {
            for versioned in [false, true] {
                let action = PolicyActions.action(for: endpoint, versioned: versioned)
                #expect(action.map { PolicyActions.known[$0.lowercased()] != nil } == true, "\(endpoint)")
            }
        }
        for configuration in BucketConfiguration.allCases {
            let action = PolicyActions.action(for: .getBucketConfiguration(configuration))
            #expect(action.map { PolicyActions.known[$0.lowercased()] != nil } == true, "\(configuration)")
        }
    }
}
