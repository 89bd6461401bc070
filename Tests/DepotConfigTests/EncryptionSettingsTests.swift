import Glibc
import Testing

@testable import DepotConfig

/// `encryption:` master keys: files (raw or hex) and environment variables, with errors that
/// name the exact field.
struct EncryptionSettingsTests {
    private func file(_ bytes: [UInt8]) -> String {
        var template = Array("/tmp/depot-key-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    private func parse(_ yaml: String) throws -> EncryptionSettings {
        try DepotConfiguration.parse(yaml: yaml).encryption
    }

    @Test func keysFromRawAndHexFilesAndTheEnvironment() throws {
        let raw = [UInt8](repeating: 0xAB, count: 32)
        let rawPath = file(raw)
        let hexPath = file(Array((String(repeating: "0f", count: 32) + "\n").utf8))
        defer {
            unlink(rawPath)
            unlink(hexPath)
        }
        setenv("DEPOT_TEST_ENCRYPTION_KEY", String(repeating: "7A", count: 32), 1)
        let settings = try parse(
            """
            encryption:
              keys:
                - { id: raw, file: \(rawPath) }
                - { id: hex, file: \(hexPath) }
                - { id: env, env: DEPOT_TEST_ENCRYPTION_KEY }
              default: hex
            """)
        #expect(settings.keys["raw"] == raw)
        #expect(settings.keys["hex"] == [UInt8](repeating: 0x0F, count: 32))
        #expect(settings.keys["env"] == [UInt8](repeating: 0x7A, count: 32))
        #expect(settings.defaultKeyId == "hex")
        #expect(settings.previousKeys.isEmpty)
        let rotating = try parse(
            """
            encryption:
              keys:
                - { id: k, file: \(hexPath), previous: [{ file: \(rawPath) }, { env: DEPOT_TEST_ENCRYPTION_KEY }] }
            """)
        #expect(rotating.keys["k"] == [UInt8](repeating: 0x0F, count: 32))
        #expect(rotating.previousKeys["k"] == [raw, [UInt8](repeating: 0x7A, count: 32)])
        // One key is its own default; no section means no keys.
        #expect(try parse("encryption: { keys: [{ id: only, file: \(rawPath) }] }").defaultKeyId == "only")
        #expect(try parse("buckets: []").keys.isEmpty)
    }

    @Test func mistakesNameTheField() throws {
        let rawPath = file([UInt8](repeating: 1, count: 32))
        let shortPath = file([1, 2, 3])
        defer {
            unlink(rawPath)
            unlink(shortPath)
        }
        setenv("DEPOT_TEST_SHORT_KEY", "abcd", 1)
        unsetenv("DEPOT_TEST_MISSING_KEY")
        let cases: [(String, String)] = [
            ("encryption: { keys: [{ id: a, file: \(shortPath) }] }", "encryption.keys[0].file"),
            ("encryption: { keys: [{ id: a, file: /nonexistent/key }] }", "encryption.keys[0].file"),
            ("encryption: { keys: [{ id: a, env: DEPOT_TEST_SHORT_KEY }] }", "encryption.keys[0].env"),
            ("encryption: { keys: [{ id: a, env: DEPOT_TEST_MISSING_KEY }] }", "encryption.keys[0].env"),
            ("encryption: { keys: [{ id: a }] }", "encryption.keys[0]"),
            ("encryption: { keys: [{ id: a, file: \(rawPath), env: X }] }", "encryption.keys[0]"),
            ("encryption: { keys: [{ id: \"a b\", file: \(rawPath) }] }", "encryption.keys[0].id"),
            ("encryption: { keys: [{ id: a, file: \(rawPath) }, { id: a, file: \(rawPath) }] }", "encryption.keys[1].id"),
            ("encryption: { keys: [{ id: a, file: \(rawPath) }], default: b }", "encryption.default"),
            ("encryption: { keys: [{ id: a, file: \(rawPath) }, { id: b, file: \(rawPath) }] }", "encryption.default"),
            ("encryption: { keys: [{ id: a, file: \(rawPath), extra: 1 }] }", "encryption.keys[0].extra"),
            (
                "encryption: { keys: [{ id: a, file: \(rawPath), previous: [{ file: \(shortPath) }] }] }",
                "encryption.keys[0].previous[0].file"
            ),
            ("encryption: { keys: [{ id: a, file: \(rawPath), previous: [{}] }] }", "encryption.keys[0].previous[0]"),
        ]
        for (yaml, field) in cases {
            let error = #expect(throws: ConfigError.self) { try parse(yaml) }
            #expect(error?.path == field, "\(yaml): \(String(describing: error))")
        }
    }
}
