import Glibc

/// An IPv4 or IPv6 address range in CIDR form (`192.168.1.0/24`, `2001:db8::/32`); an address
/// alone is its own /32 or /128. Bucket policies' `IpAddress` conditions and
/// `server.trustedProxies` read addresses with it.
public struct IPRange: Sendable, Equatable {
    public let network: [UInt8]
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.parse(String(parts[0])) else { return nil }
        let bits = address.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length), !parts[1].hasPrefix("+") else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        network = address
    }

    /// The address bytes (4 or 16); an IPv4-mapped IPv6 address is its IPv4 form.
    public static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff { return Array(bytes[12...]) }
        return bytes
    }

    public func contains(_ addressText: String) -> Bool {
        guard let address = Self.parse(addressText), address.count == network.count else { return false }
        var remaining = prefixLength
        for i in 0..<address.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            guard address[i] & mask == network[i] & mask else { return false }
            remaining -= bits
        }
        return true
    }
}
