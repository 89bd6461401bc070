import DepotConfig
import Testing

@Suite struct KeyGlobTests {
    @Test(arguments: [
        ("*.mp4", "clip.mp4", true),
        ("*.mp4", "cam/clip.mp4", false),
        ("**/*.mp4", "cam/clip.mp4", true),
        ("**/*.mp4", "clip.mp4", true),
        ("**.mp4", "a/b/c.mp4", true),
        ("front-*/**/*.mp4", "front-door/2026/11/25/clip.mp4", true),
        ("front-*/**/*.mp4", "front-door/clip.mp4", true),
        ("front-*/**/*.mp4", "back-door/2026/clip.mp4", false),
        ("front-*/**/*.mp4", "front-door/2026/clip.mkv", false),
        ("cam?/x", "cam1/x", true),
        ("cam?/x", "cam/x", false),
        ("cam?/x", "cam//x", false),
        ("cam[0-3]/*", "cam2/a", true),
        ("cam[0-3]/*", "cam7/a", false),
        ("cam[!0-3]/*", "cam7/a", true),
        ("a\\*b", "a*b", true),
        ("a\\*b", "axb", false),
        ("", "", true),
        ("*", "", true),
        ("*", "a/b", false),
    ])
    func matches(pattern: String, key: String, expected: Bool) throws {
        #expect(try KeyGlob(pattern).matches(key) == expected, "\(pattern) vs \(key)")
    }

    @Test func malformedPatternsAreRefused() {
        #expect(throws: KeyGlobError.self) { try KeyGlob("cam[0-3") }
        #expect(throws: KeyGlobError.self) { try KeyGlob("cam[9-0]") }
    }

    @Test func longKeysDoNotBacktrackExponentially() throws {
        let key = String(repeating: "a/", count: 500) + "b"
        let glob = try KeyGlob("**/**/**/**/**/*c")
        #expect(!glob.matches(key))
    }
}

@Suite struct TimeWindowTests {
    @Test func windowsWithinADay() throws {
        let window = try TimeWindow("01:00-05:00,12:00-13:30")
        #expect(window.contains(minuteOfDay: 60))
        #expect(window.contains(minuteOfDay: 299))
        #expect(!window.contains(minuteOfDay: 300))
        #expect(window.contains(minuteOfDay: 13 * 60 + 29))
        #expect(!window.contains(minuteOfDay: 13 * 60 + 30))
        #expect(!window.contains(minuteOfDay: 0))
    }

    @Test func windowsPastMidnightWrap() throws {
        let window = try TimeWindow("22:00-06:00")
        #expect(window.contains(minuteOfDay: 23 * 60))
        #expect(window.contains(minuteOfDay: 0))
        #expect(window.contains(minuteOfDay: 359))
        #expect(!window.contains(minuteOfDay: 360))
        #expect(!window.contains(minuteOfDay: 12 * 60))
        let untilMidnight = try TimeWindow("18:00-24:00")
        #expect(untilMidnight.contains(minuteOfDay: 23 * 60 + 59))
        #expect(!untilMidnight.contains(minuteOfDay: 0))
        let allDay = try TimeWindow("00:00-24:00")
        #expect(allDay.contains(minuteOfDay: 0) && allDay.contains(minuteOfDay: 1439))
    }

    @Test func badWindowsAreRefused() {
        for text in ["", "22:00", "25:00-01:00", "10:00-10:00", "ab-cd", "10:60-11:00", "24:00-01:00"] {
            #expect(throws: TimeWindowError.self, "\(text)") { try TimeWindow(text) }
        }
    }
}

@Suite struct PolicyConfigurationTests {
    static let base = """
        tiers:
          - { name: cold, type: filesystem, path: /tmp/x, bandwidth: 1MB, window: "22:00-06:00" }
        policies:
          - name: p
            match: { bucket: rec, key: "front-*/**/*.mp4", tags: { keep: "yes" } }
            replicate: { to: [cold] }
        """

    @Test func tagsGlobBandwidthAndWindowAreParsed() throws {
        let config = try DepotConfiguration.parse(yaml: Self.base)
        #expect(config.tiers[0].bandwidth == 1_000_000)
        #expect(config.tiers[0].window?.contains(minuteOfDay: 23 * 60) == true)
        let policy = config.policies[0]
        #expect(policy.matches(bucket: "rec", key: "front-1/a/b.mp4", size: 1, metadata: [], tags: [("keep", "yes")]))
        #expect(!policy.matches(bucket: "rec", key: "front-1/a/b.mp4", size: 1, metadata: [], tags: [("keep", "no")]))
        #expect(!policy.matches(bucket: "rec", key: "front-1/a/b.mp4", size: 1, metadata: []))
        #expect(!policy.matches(bucket: "rec", key: "side/a/b.mp4", size: 1, metadata: [], tags: [("keep", "yes")]))
    }

    @Test(arguments: [
        ("window: \"22:00\"", "tiers[0].window"),
        ("bandwidth: 10", "tiers[0].bandwidth"),
    ])
    func badTierSettingsNameTheField(setting: String, field: String) {
        let yaml = "tiers:\n  - { name: cold, type: filesystem, path: /tmp/x, \(setting) }\n"
        #expect {
            try DepotConfiguration.parse(yaml: yaml)
        } throws: { error in
            (error as? ConfigError)?.path == field
        }
    }

    @Test func aBadKeyPatternNamesTheField() {
        let yaml = "tiers: []\npolicies:\n  - { name: p, match: { key: \"cam[1-\" } }\n"
        #expect {
            try DepotConfiguration.parse(yaml: yaml)
        } throws: { error in
            (error as? ConfigError)?.path == "policies[0].match.key"
        }
    }
}
