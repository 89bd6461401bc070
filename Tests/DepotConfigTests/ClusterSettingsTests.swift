import DepotConfig
import Glibc
import Testing

@Suite struct ClusterSettingsTests {
    @Test func noClusterSectionIsEmbeddedMode() throws {
        #expect(try DepotConfiguration.parse(yaml: DepotConfiguration.defaultYAML).cluster == nil)
    }

    @Test func theWholeSectionParses() throws {
        let keyFile = try Self.keyFile(String(repeating: "ab", count: 32) + "\n")
        defer { unlink(keyFile) }
        let config = try DepotConfiguration.parse(
            yaml: """
                cluster:
                  index: postgres://depot:s%40cret@db.example:6543/depot_index
                  node: gw-1
                  chunks: { endpoint: "http://127.0.0.1:9100", bucket: depot-chunks, accessKey: AK, secretKey: SK, prefix: packs/ }
                  cache: { path: /var/cache/depot, size: 2GiB }
                  keyFile: \(keyFile)
                """)
        let cluster = try #require(config.cluster)
        #expect(
            cluster.index
                == PostgresLocation(host: "db.example", port: 6543, user: "depot", password: "s@cret", database: "depot_index"))
        #expect(cluster.index.description == "postgres://depot@db.example:6543/depot_index")
        #expect(cluster.node == "gw-1")
        #expect(
            cluster.chunks
                == ClusterChunkStore(
                    endpoint: "http://127.0.0.1:9100", bucket: "depot-chunks", region: "us-east-1", accessKey: "AK",
                    secretKey: "SK", prefix: "packs/"))
        #expect(cluster.cache == ClusterChunkCache(path: "/var/cache/depot", size: 2 << 30))
        #expect(cluster.key == ClusterKey(material: [UInt8](repeating: 0xab, count: 32)))
    }

    /// A file holding `text`, for `cluster.keyFile`.
    static func keyFile(_ text: String) throws -> String {
        var template = Array("/tmp/depot-cluster-key-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        try #require(fd >= 0)
        _ = text.utf8CString.dropLast().withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return String(cString: template)
    }

    @Test func aSharedIndexNeedsTheClusterKeyFileAndAGoodOne() throws {
        let chunks = "chunks: { endpoint: \"http://x\", bucket: bbb, accessKey: a, secretKey: s }"
        #expect(throws: ConfigError.self) { try DepotConfiguration.parse(yaml: "cluster: { index: \"postgres://u@h/d\", \(chunks) }") }
        do {
            _ = try DepotConfiguration.parse(yaml: "cluster: { index: \"postgres://u@h/d\", \(chunks) }")
        } catch let error as ConfigError {
            #expect(error.path == "cluster.keyFile" && error.message.contains("is required with cluster.chunks"), "\(error)")
        }
        let short = try Self.keyFile("abcd\n")
        defer { unlink(short) }
        do {
            _ = try DepotConfiguration.parse(yaml: "cluster: { index: \"postgres://u@h/d\", \(chunks), keyFile: \(short) }")
            Issue.record("accepted a 5-byte key file")
        } catch let error as ConfigError {
            #expect(error.path == "cluster.keyFile" && error.message.contains("64 hex digits"), "\(error)")
        }
        do {
            _ = try DepotConfiguration.parse(yaml: "cluster: { index: \"postgres://u@h/d\", keyFile: /nonexistent/k }")
            Issue.record("accepted a missing key file")
        } catch let error as ConfigError {
            #expect(error.path == "cluster.keyFile" && error.message.contains("cannot read"), "\(error)")
        }
    }

    @Test func theDerivedKeysAreDistinctAndTheCheckValueIsStable() {
        let key = ClusterKey(material: [UInt8](repeating: 7, count: 32))
        let other = ClusterKey(material: [UInt8](repeating: 8, count: 32))
        let derived = [key.accountSealingKey, key.urlSigningKey, key.consoleSessionKey]
        #expect(Set(derived.map { $0.description }).count == 3 && derived.allSatisfy { $0.count == 32 })
        #expect(!derived.contains([UInt8](repeating: 7, count: 32)))
        #expect(key.checkValue == ClusterKey(material: [UInt8](repeating: 7, count: 32)).checkValue)
        #expect(key.checkValue != other.checkValue && key.checkValue.count == 32)
        #expect(key.rootCredentials.accessKey != other.rootCredentials.accessKey)
        #expect(key.rootCredentials.accessKey.hasPrefix("depot-") && key.rootCredentials.secretKey.count == 40)
    }

    @Test func theNodeNameDefaultsToTheHostName() throws {
        let config = try DepotConfiguration.parse(yaml: "cluster: { index: \"postgresql://u@[::1]/d\" }")
        let cluster = try #require(config.cluster)
        #expect(cluster.node == ClusterSettings.hostName())
        #expect(cluster.index.host == "::1" && cluster.index.port == 5432 && cluster.index.password == nil)
        #expect(cluster.chunks == nil && cluster.cache == nil)
    }

    @Test(arguments: [
        ("cluster: { node: a }", "cluster.index", "is required"),
        ("cluster: { index: \"mysql://u:p@h/d\" }", "cluster.index", "must start with postgres://"),
        ("cluster: { index: \"postgres://u:p@h:99999/d\" }", "cluster.index", "outside 1-65535"),
        ("cluster: { index: \"postgres://u:p@h:port/d\" }", "cluster.index", "port that is not a number"),
        ("cluster: { index: \"postgres://u:p@h:5432\" }", "cluster.index", "names no database"),
        ("cluster: { index: \"postgres://h:5432/d\" }", "cluster.index", "names no user"),
        ("cluster: { index: \"not a url\" }", "cluster.index", "must be a URL"),
        ("cluster: { index: \"postgres://u@h/d?sslmode=require\" }", "cluster.index", "no query parameters"),
        ("cluster: { index: \"postgres://u@h/d\", node: \"a b\" }", "cluster.node", "not a valid node name"),
        (
            "cluster: { index: \"postgres://u@h/d\", chunks: { endpoint: ftp://x, bucket: b1b, accessKey: a, secretKey: s } }",
            "cluster.chunks.endpoint", "http://"
        ),
        (
            "cluster: { index: \"postgres://u@h/d\", chunks: { endpoint: \"http://x\", bucket: B, accessKey: a, secretKey: s } }",
            "cluster.chunks.bucket", "not a valid bucket name"
        ),
        (
            "cluster: { index: \"postgres://u@h/d\", chunks: { endpoint: \"http://x\", bucket: bbb, secretKey: s } }",
            "cluster.chunks.accessKey", "is required"
        ),
        ("cluster: { index: \"postgres://u@h/d\", cache: { size: 1GiB } }", "cluster.cache.path", "is required"),
        ("cluster: { index: \"postgres://u@h/d\", cache: { path: /c, size: 1MiB } }", "cluster.cache.size", "at least 64MiB"),
        ("cluster: { index: \"postgres://u@h/d\", nodes: 3 }", "cluster.nodes", "unknown field"),
    ])
    func badFieldsAreRefusedByName(yaml: String, field: String, message: String) {
        do {
            _ = try DepotConfiguration.parse(yaml: yaml)
            Issue.record("accepted \(yaml)")
        } catch let error as ConfigError {
            #expect(error.path == field, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func passwordsStayOutOfTheErrors() {
        do {
            _ = try DepotConfiguration.parse(yaml: "cluster: { index: \"pg://u:hunter2@h/d\" }")
            Issue.record("accepted")
        } catch {
            #expect(!"\(error)".contains("hunter2"))
        }
    }
}
