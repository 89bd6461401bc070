import Glibc

/// systemd's readiness protocol (sd_notify), for `Type=notify` units (Config/depot.service):
/// when systemd sets `NOTIFY_SOCKET`, Depot sends `READY=1` once it listens and `STOPPING=1`
/// when a stop begins, each as one datagram on that unix socket. Without the variable nothing
/// is sent. A path starting with `@` is in the abstract namespace, as sd_notify(3) says.
enum SystemdNotify {
    /// Sends `state` (newline-separated `KEY=value` assignments); false when there is no socket
    /// or the send failed (systemd then times the start out, which its log says).
    @discardableResult
    static func send(_ state: String) -> Bool {
        guard let variable = getenv("NOTIFY_SOCKET") else { return false }
        var path = Array(String(cString: variable).utf8)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !path.isEmpty, path.count < capacity, path[0] == UInt8(ascii: "/") || path[0] == UInt8(ascii: "@") else {
            return false
        }
        if path[0] == UInt8(ascii: "@") { path[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { sunPath in
            for (index, byte) in path.enumerated() { sunPath[index] = byte }
        }
        // An abstract address is exactly its bytes; a path one ends with its NUL.
        let length = MemoryLayout<sa_family_t>.size + path.count + (path[0] == 0 ? 0 : 1)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes { bytes in
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), socketAddress, socklen_t(length))
                }
            }
        }
        return sent == message.count
    }
}
