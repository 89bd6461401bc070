import Glibc

/// Reading the configuration file `--config` names, with an error that says what is wrong with
/// the path: a directory used to read as an empty file, which is a valid configuration (the
/// default one), so the server started without the settings its operator meant to give it.
public enum ConfigurationFile {
    /// Configurations are a few KiB; a larger file is a wrong path (a log, a disk image).
    public static let maximumSize = 4 << 20

    /// The file's text; a `ConfigError` naming the path and the problem otherwise.
    public static func read(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ConfigError("", describe(errno: errno, path: path)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ConfigError("", describe(errno: errno, path: path)) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw ConfigError("", "configuration file \(path) is a directory") }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw ConfigError("", describe(errno: errno, path: path)) }
            if n == 0 { break }
            bytes += buffer.prefix(n)
            guard bytes.count <= maximumSize else {
                throw ConfigError("", "configuration file \(path) is larger than \(maximumSize >> 20) MiB")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads and parses the file.
    public static func load(_ path: String) throws -> DepotConfiguration {
        try DepotConfiguration.parse(yaml: try read(path))
    }

    /// The message for a failed open or read of `path`.
    static func describe(errno code: Int32, path: String) -> String {
        switch code {
        case ENOENT: return "configuration file \(path) not found"
        case ENOTDIR: return "configuration file \(path) not found (a part of the path is not a directory)"
        case EACCES, EPERM: return "configuration file \(path): permission denied"
        case EISDIR: return "configuration file \(path) is a directory"
        default: return "configuration file \(path): \(String(cString: strerror(code)))"
        }
    }
}
