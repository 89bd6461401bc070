import DepotConfig
import Testing

@Suite struct AccountListingTests {
    let camera = Account(
        name: "camera-1", accessKey: "CAM1", secretKey: "camera-secret",
        grants: [Grant(bucket: "recordings", prefix: "camera-1/", actions: [.read, .write, .list])])

    @Test(arguments: [
        ("camera-1/", true), ("camera-1/2026/12/", true), ("camera-1", false), ("camera-", false), ("", false),
        ("camera-2/", false),
    ])
    func listingMustStayInsideTheGrantedPrefix(prefix: String, allowed: Bool) {
        #expect(camera.mayList(bucket: "recordings", prefix: prefix) == allowed)
    }

    @Test func otherBucketsAndMissingListGrantsAreRefused() {
        #expect(!camera.mayList(bucket: "archive", prefix: "camera-1/"))
        let writer = Account(
            name: "w", accessKey: "W", secretKey: "writer-secret", grants: [Grant(bucket: "*", actions: [.write])])
        #expect(!writer.mayList(bucket: "recordings", prefix: ""))
        let reader = Account(
            name: "r", accessKey: "R", secretKey: "reader-secret", grants: [Grant(bucket: "*", actions: [.list])])
        #expect(reader.mayList(bucket: "recordings", prefix: ""))
        var disabled = reader
        disabled.enabled = false
        #expect(!disabled.mayList(bucket: "recordings", prefix: "x/"))
    }
}

@Suite struct VaultProviderConfigurationTests {
    @Test func accountProvidersResolveAndTakeTheDefaultsBucket() throws {
        let config = try DepotConfiguration.parse(
            yaml: """
                providers:
                  - { name: edge, bucket: recordings }
                  - { name: archive, bucket: archive }
                accounts:
                  - { name: a, accessKey: AKEY, secretKey: a-secret-1, vault: { providers: [edge, archive] } }
                """)
        let vault = try #require(config.accounts.first?.vault)
        #expect(vault.bucket == "recordings")
        #expect(vault.providers?.map(\.name) == ["edge", "archive"])
        #expect(vault.providers?.last?.bucket == "archive")
    }

    @Test func anAccountWithoutProvidersStillNeedsABucket() {
        #expect(throws: ConfigError.self) {
            try DepotConfiguration.parse(yaml: "accounts: [{ name: a, accessKey: AKEY, secretKey: a-secret-1, vault: {} }]")
        }
    }
}
