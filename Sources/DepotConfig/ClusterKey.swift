import DepotHashing

/// The cluster's key (`cluster.keyFile`, README "Cluster mode"): 32 random bytes every node of a
/// cluster is given in a file, as MinIO's nodes share one KMS secret. Every secret that must be
/// the same on every node, and that a copy of the database alone must not reveal, derives from
/// it, so nothing of it is stored in PostgreSQL:
/// - the key sealing stored account records (embedded mode: `<data>/secrets-key`), so an account
///   made through one node's admin API opens on every node;
/// - the key signing Vault download links (embedded: `<data>/url-signing-key`);
/// - the key signing console sessions, so a browser signed in through one node is signed in on
///   every node behind a load balancer without stickiness;
/// - the root account's credentials, when `DEPOT_ROOT_USER`/`DEPOT_ROOT_PASSWORD` are not set.
///
/// Why one file and derived keys rather than one file per secret: one thing to distribute and
/// keep safe, and one check that a node has the right one. The index keeps only a check value
/// (`checkValue`, a keyed hash that reveals nothing of the key), so a node given another file
/// refuses to start instead of sealing records the others cannot open.
///
/// Each derived key is HMAC-SHA256(cluster key, purpose label): a pseudo-random function of a
/// uniformly random key, so the derived keys are independent of each other and none reveals the
/// cluster key. Changing the key file is not supported yet (sealed accounts would not open);
/// SSE master keys stay in `encryption:` (the same section on every node), whose wrapped data
/// keys the shared index holds.
public struct ClusterKey: Sendable, Equatable {
    let material: [UInt8]

    public init(material: [UInt8]) { self.material = material }

    /// A new random key, as 64 hex digits and a newline (`depot cluster keygen`).
    public static func generateFileText() -> String { Hex.encode(secureRandomBytes(32)) + "\n" }

    private func derived(_ purpose: String) -> [UInt8] {
        HMAC.sha256(key: material, message: Array("depot-cluster-key/\(purpose)".utf8))
    }

    /// Seals stored account records (AES-256-GCM).
    public var accountSealingKey: [UInt8] { derived("account-sealing") }
    /// Signs Vault download links.
    public var urlSigningKey: [UInt8] { derived("url-signing") }
    /// Signs console session ids and derives their CSRF tokens.
    public var consoleSessionKey: [UInt8] { derived("console-sessions") }

    /// The root account's access key and secret when the environment chooses none: the same on
    /// every node given the key, and only known to whoever holds it.
    public var rootCredentials: (accessKey: String, secretKey: String) {
        let user = "depot-" + Hex.encode(Array(derived("root-access-key").prefix(5)))
        let password = Base64.encode(Array(derived("root-secret-key").prefix(30))).replacing("/", with: "_")
            .replacing("+", with: "-")
        return (user, password)
    }

    /// What the index keeps to tell whether a node has the cluster's key: a keyed hash, which
    /// reveals nothing of the key to a reader of the database (hex, 32 digits).
    public var checkValue: String { Hex.encode(Array(derived("check-value").prefix(16))) }
}

extension ClusterKey {
    /// The key in `path` (32 raw bytes or 64 hex digits), errors naming `field`.
    public static func load(path: String, field: String = "cluster.keyFile") throws -> ClusterKey {
        ClusterKey(material: try DepotConfiguration.keyFromFile(path, field: field))
    }
}
