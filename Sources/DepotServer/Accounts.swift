import DepotConfig
import DepotHashing
import DepotS3
import Glibc
import Synchronization

/// The accounts the server knows: the root account and those of the configuration file.
/// (Accounts managed through the admin API will join here from the index.)
public final class AccountStore: AccountDirectory {
    private let root: Account
    private let accounts: Mutex<(byKey: [String: Account], configured: [Account])>

    public init(root: Account, configured: [Account]) {
        self.root = root
        accounts = Mutex(([:], []))
        replaceConfigured(configured)
    }

    public func account(accessKey: String) -> Account? { accounts.withLock { $0.byKey[accessKey] } }

    /// Every account but root (the Vault API's account list).
    public func configured() -> [Account] { accounts.withLock { $0.configured } }

    /// Puts a new set of accounts in place (start, reload, admin changes); root always stays.
    public func replaceConfigured(_ configured: [Account]) {
        var map: [String: Account] = [:]
        for account in configured { map[account.accessKey] = account }
        map[root.accessKey] = root
        accounts.withLock { $0 = (map, configured) }
    }
}

/// The root account's credentials: from `DEPOT_ROOT_USER` / `DEPOT_ROOT_PASSWORD`, or generated
/// on the first start, printed once and kept in `<data>/root-credentials` (mode 0600).
/// In cluster mode (`clusterKey` given) they are derived from the cluster's key instead of the
/// data directory's file, so every node has the same root without a secret in the shared
/// database (ClusterKey.rootCredentials); the variables still win, set alike on every node.
public enum RootCredentials {
    public static func load(dataDirectory: String, clusterKey: ClusterKey? = nil, announce: (String) -> Void) throws
        -> Account
    {
        let path = dataDirectory + "/root-credentials"
        if let chosen = try fromEnvironment(
            user: getenv("DEPOT_ROOT_USER").map { String(cString: $0) },
            password: getenv("DEPOT_ROOT_PASSWORD").map { String(cString: $0) }, storedIn: path)
        {
            return chosen
        }
        if let clusterKey {
            let (user, password) = clusterKey.rootCredentials
            return rootAccount(user, password)
        }
        if let text = readFile(path) {
            let lines = text.split(separator: "\n").map(String.init)
            if lines.count >= 2 { return rootAccount(lines[0], lines[1]) }
        }
        let user = "depot-" + Hex.encode(secureRandomBytes(5))
        let password = Base64.encode(secureRandomBytes(30)).replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "+", with: "-")
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ServerError.startup("cannot write \(path)") }
        let bytes = Array("\(user)\n\(password)\n".utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == bytes.count else { throw ServerError.startup("cannot write \(path)") }
        announce(
            """
            Generated root credentials (shown once; kept in \(path)):
              access key: \(user)
              secret key: \(password)
            Set DEPOT_ROOT_USER and DEPOT_ROOT_PASSWORD to choose your own.
            """)
        return rootAccount(user, password)
    }

    /// The root account the environment names, nil when it names none. Half a pair is an error,
    /// not a reason to fall back to the generated credentials: the operator meant to choose them.
    static func fromEnvironment(user: String?, password: String?, storedIn path: String) throws -> Account? {
        let user = user.flatMap { $0.isEmpty ? nil : $0 }
        let password = password.flatMap { $0.isEmpty ? nil : $0 }
        switch (user, password) {
        case (nil, nil):
            return nil
        case (.some, nil):
            throw ServerError.startup(
                "DEPOT_ROOT_USER is set but DEPOT_ROOT_PASSWORD is not: set both, or neither to use the credentials kept in \(path)"
            )
        case (nil, .some):
            throw ServerError.startup(
                "DEPOT_ROOT_PASSWORD is set but DEPOT_ROOT_USER is not: set both, or neither to use the credentials kept in \(path)"
            )
        case (let user?, let password?):
            if let problem = CredentialRules.accessKeyProblem(user) {
                throw ServerError.startup("DEPOT_ROOT_USER \(problem)")
            }
            if let problem = CredentialRules.secretKeyProblem(password) {
                throw ServerError.startup("DEPOT_ROOT_PASSWORD \(problem)")
            }
            return rootAccount(user, password)
        }
    }

    static func rootAccount(_ user: String, _ password: String) -> Account {
        Account(name: "root", accessKey: user, secretKey: password, grants: [Grant(bucket: "*", actions: Set(Action.allCases))])
    }

    static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &buffer, buffer.count)
        return n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : nil
    }
}

public enum ServerError: Error, CustomStringConvertible {
    case startup(String)
    public var description: String {
        switch self {
        case .startup(let s): return s
        }
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        target.isEmpty ? self : replacing(target, with: replacement)
    }
}

/// A random secret kept in the data directory (mode 0600), made on first use: the key that
/// signs Vault download links, so links stay valid across restarts.
enum SecretFile {
    static func load(path: String, bytes count: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            var buffer = [UInt8](repeating: 0, count: count)
            let n = read(fd, &buffer, count)
            close(fd)
            if n == count { return buffer }
        }
        let secret = secureRandomBytes(count)
        let out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw ServerError.startup("cannot write \(path)") }
        let written = secret.withUnsafeBytes { write(out, $0.baseAddress, $0.count) }
        fsync(out)
        close(out)
        guard written == count else { throw ServerError.startup("cannot write \(path)") }
        return secret
    }
}
