import ArgumentParser
import DepotConfig
import Glibc

extension ClusterCommand {
    /// `depot cluster keygen FILE`: the key every node of a cluster is given (`cluster.keyFile`,
    /// ClusterKey.swift). Makes FILE when it does not exist (never overwrites one: a cluster's
    /// sealed accounts open only with its key), then prints the key's check value, which the
    /// index keeps and a node with another key is refused by, and the root account derived from it.
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Make the cluster's key file (cluster.keyFile) if FILE does not exist; print its check value and the root account derived from it."
        )
        @Argument(help: "The key file (made with mode 0600 when missing; an existing one is only read).")
        var file: String

        func run() throws {
            let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 {
                let text = Array(ClusterKey.generateFileText().utf8)
                let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                let synced = fsync(fd) == 0
                close(fd)
                guard written == text.count, synced else {
                    unlink(file)
                    throw CommandFailure("cannot write \(file): \(String(cString: strerror(errno)))")
                }
                print("made \(file): keep it secret, and give every node of the cluster this same file as cluster.keyFile")
            } else if errno == EEXIST {
                print("\(file) exists: read, not changed")
            } else {
                throw CommandFailure("cannot create \(file): \(String(cString: strerror(errno)))")
            }
            let key: ClusterKey
            do {
                key = try ClusterKey.load(path: file, field: "FILE")
            } catch let error as ConfigError {
                throw CommandFailure("\(error)")
            }
            let root = key.rootCredentials
            print(
                """
                check value: \(key.checkValue)
                root account (unless DEPOT_ROOT_USER and DEPOT_ROOT_PASSWORD are set, alike on every node):
                  access key: \(root.accessKey)
                  secret key: \(root.secretKey)
                """)
        }
    }
}
