import DepotConfig
import DepotEngine
import Testing

/// The one storage-class decision (DepotConfig's StorageClasses): which names a tier may declare,
/// which `x-amz-storage-class` values are accepted, where a class sends an object and which class
/// an object reports.
struct StorageClassesTests {
    func tier(_ name: String, _ storageClass: String?) throws -> TierSettings {
        var document = #"{"name": "\#(name)", "type": "filesystem", "path": "/tmp/\#(name)""#
        if let storageClass { document += #", "storageClass": "\#(storageClass)""# }
        return try DepotConfiguration.parseTierDocument(document + "}")
    }

    @Test func declaredNamesAreUpperCaseAndNotStandard() throws {
        #expect(try tier("cold", "GLACIER_IR").storageClass == "GLACIER_IR")
        #expect(try tier("nas", "NAS-2").storageClass == "NAS-2")
        for bad in ["STANDARD", "glacier", "", "1COLD", "A B", String(repeating: "A", count: 65)] {
            #expect(throws: ConfigError.self, "\(bad)") { try tier("t", bad) }
            #expect(StorageClasses.problem(withDeclared: bad) != nil, "\(bad)")
        }
    }

    @Test func twoTiersOfOneClassAreAConfigErrorNamingTheField() throws {
        let yaml = """
            tiers:
              - { name: a, type: filesystem, path: /tmp/a, storageClass: COLD }
              - { name: b, type: filesystem, path: /tmp/b, storageClass: COLD }
            """
        do {
            _ = try DepotConfiguration.parse(yaml: yaml)
            Issue.record("accepted two tiers of one class")
        } catch let error as ConfigError {
            #expect(error.path == "tiers[1].storageClass", "\(error)")
        }
    }

    @Test func acceptedClassesAndTheirTiers() throws {
        let classes = StorageClasses(tiers: [try tier("cold", "GLACIER_IR"), try tier("plain", nil)])
        #expect(classes.accepts("STANDARD") && classes.accepts("GLACIER_IR"))
        #expect(!classes.accepts("STANDARD_IA") && !classes.accepts("glacier_ir") && !classes.accepts(""))
        var record = ObjectRecord(size: 1, etag: "e", created: 0, owner: "o")
        #expect(classes.targetTier(of: record) == nil)
        #expect(classes.reportedClass(of: record) == nil && classes.listedClass(of: record) == "STANDARD")
        record.systemMetadata.append((StorageClasses.requestedKey, "GLACIER_IR"))
        #expect(classes.targetTier(of: record) == "cold")
        // In its class from its PUT on, evicted or not.
        #expect(classes.reportedClass(of: record) == "GLACIER_IR")
        record.localState = .evicted
        record.replicas = [TierReplica(tier: "cold", state: .completed, updated: 0)]
        #expect(classes.listedClass(of: record) == "GLACIER_IR")
    }

    @Test func aMovedObjectReportsTheClassOfATierHoldingIt() throws {
        let classes = StorageClasses(tiers: [try tier("plain", nil), try tier("cold", "GLACIER_IR")])
        var record = ObjectRecord(size: 1, etag: "e", created: 0, owner: "o")
        record.replicas = [
            TierReplica(tier: "plain", state: .completed, updated: 0),
            TierReplica(tier: "cold", state: .completed, updated: 0),
        ]
        // Still local: STANDARD, whatever copies the tiers hold.
        #expect(classes.reportedClass(of: record) == nil)
        record.localState = .evicted
        #expect(classes.reportedClass(of: record) == "GLACIER_IR")
        // Moved to tiers without a class: STANDARD.
        record.replicas.removeLast()
        #expect(classes.reportedClass(of: record) == nil)
    }

    @Test func transitionsFallDueByAgeAtMidnightOrByDate() {
        let day: Int64 = 86_400_000
        var policy = PolicySettings.named("t")
        #expect(!policy.transitions && policy.transitionDue(created: 0) == nil)
        policy.transitionAfter = 86400
        // A configuration policy counts exact seconds; an S3 rule counts to the next midnight.
        #expect(policy.transitionDue(created: 10 * day + 5) == 11 * day + 5)
        policy.expireAtMidnightUTC = true
        #expect(policy.transitionDue(created: 10 * day + 5) == 12 * day)
        policy.transitionAt = 11 * day
        #expect(policy.transitionDue(created: 10 * day + 5) == 11 * day)
    }
}
