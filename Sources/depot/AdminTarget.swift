import DepotConfig
import Foundation
import Glibc

/// The admin API an admin command talks to: the one place that decides where that is.
///
/// The URL comes from `--endpoint`, else `DEPOT_ENDPOINT`, else the `server.address` of the
/// configuration file (`--config`, else the embedded default `Config/depot.yaml`, so
/// 127.0.0.1:9000): the admin API listens on the same address as S3 and Vault. The signing
/// region comes from `--region`, else `DEPOT_REGION`, else that file's `server.region` when a
/// file was named; otherwise the server is asked (AdminClient).
struct AdminTarget {
    let url: String
    let region: String?
    /// Where the URL came from, for error messages (" (server.address of FILE)"); empty for a
    /// URL given on the command line.
    let origin: String

    static func resolve(endpoint: String?, config: String?, region: String?) throws -> AdminTarget {
        let chosenRegion = region ?? environment("DEPOT_REGION")
        if let endpoint { return AdminTarget(url: endpoint, region: chosenRegion, origin: "") }
        if let url = environment("DEPOT_ENDPOINT") {
            return AdminTarget(url: url, region: chosenRegion, origin: " (from DEPOT_ENDPOINT)")
        }
        let configuration = try loadConfiguration(config)
        return AdminTarget(
            url: url(of: configuration.server), region: chosenRegion ?? (config == nil ? nil : configuration.server.region),
            origin: " (server.address of \(config ?? "the default configuration"); give --endpoint or DEPOT_ENDPOINT)")
    }

    /// The URL a client on this machine reaches a server listening on `server.address` at: a
    /// wildcard address (0.0.0.0, ::) is reached on loopback, IPv6 hosts go in brackets, and
    /// https when the server has a certificate.
    static func url(of server: ServerSettings) -> String {
        // The configuration's parser has checked the address already.
        guard let listen = HostPort.parse(server.address) else { return "http://\(server.address)" }
        var host = listen.host
        if host == "0.0.0.0" || host == "*" { host = "127.0.0.1" }
        if host == "::" || host == "[::]" { host = "::1" }
        if host.contains(":") { host = "[\(host)]" }
        return "\(server.tls == nil ? "http" : "https")://\(host):\(listen.port)"
    }
}

extension AdminTarget {
    /// Why a TCP connection to the URL's host and port fails, in `connect(2)`'s words
    /// ("connection refused"); nil when one opens within `seconds`. Asked before the HTTP
    /// request because the HTTP client retries a refused connection until its connect timeout,
    /// so an admin would wait ten seconds to learn the server is not running.
    func unreachableReason(seconds: Int32 = 5) -> String? {
        guard let components = URLComponents(string: url), let host = components.host else { return nil }
        let port = components.port ?? (components.scheme == "https" ? 443 : 80)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            return "cannot resolve \(host): \(String(cString: gai_strerror(resolved)))"
        }
        defer { freeaddrinfo(list) }
        var reason: String?
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            entry = address.pointee.ai_next
            let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            if connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return nil }
            guard errno == EINPROGRESS else {
                reason = String(cString: strerror(errno)).lowercased()
                continue
            }
            var waiting = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&waiting, 1, seconds * 1000) == 1 else {
                reason = "no connection within \(seconds) s"
                continue
            }
            var code: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &size)
            if code == 0 { return nil }
            reason = String(cString: strerror(code)).lowercased()
        }
        return reason
    }
}
