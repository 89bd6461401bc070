import Foundation
import Glibc
import Testing

@testable import DepotConfig

/// What `--config` and `depot config check` say about a path that is not a readable file. The
/// permission case is checked through the errno mapping: the tests run as root, which reads any file.
@Suite struct ConfigurationFileTests {
    @Test func aDirectoryIsNamedAsOne() throws {
        let directory = NSTemporaryDirectory()
        let error = #expect(throws: ConfigError.self) { try ConfigurationFile.read(directory) }
        #expect(error?.message == "configuration file \(directory) is a directory")
    }

    @Test func aMissingFileIsNotFound() {
        let error = #expect(throws: ConfigError.self) { try ConfigurationFile.read("/nonexistent/depot.yaml") }
        #expect(error?.message == "configuration file /nonexistent/depot.yaml not found")
    }

    @Test func permissionDeniedIsSaid() {
        #expect(
            ConfigurationFile.describe(errno: EACCES, path: "/etc/x.yaml") == "configuration file /etc/x.yaml: permission denied")
    }

    @Test func aReadableFileParses() throws {
        let path = NSTemporaryDirectory() + "/depot-config-\(getpid()).yaml"
        try "buckets: [clips]\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        #expect(try ConfigurationFile.load(path).buckets == ["clips"])
    }

    @Test func credentialMinimumsAreMinIOs() {
        #expect(CredentialRules.accessKeyProblem("ab") == "must be at least 3 characters")
        #expect(CredentialRules.accessKeyProblem("abc") == nil)
        #expect(CredentialRules.secretKeyProblem("seven77") == "must be at least 8 characters")
        #expect(CredentialRules.secretKeyProblem("eight888") == nil)
    }
}
