import DepotStorage

extension DepotConfiguration {
    /// `storage.reserve`: a size (`64MiB`, `0` turns it off) or a share of the device (`1%`, at
    /// most 50%); unset means the smaller of 1% of the device and 256 MiB.
    static func spaceReserve(_ node: ConfigNode) throws -> SpaceReserve {
        guard let text = try node.string() else { return .automatic }
        let trimmed = text.filter { $0 != " " }
        if trimmed.hasSuffix("%") {
            guard let percent = Double(trimmed.dropLast()), percent >= 0, percent <= 50
            else {
                throw ConfigError(node.path, "must be a percentage of the device between 0% and 50%, got \"\(text)\"")
            }
            return .fraction(percent / 100)
        }
        guard let bytes = ByteSize.parse(trimmed), bytes >= 0 else {
            throw ConfigError(node.path, "must be a size such as 64MiB or 1GiB, or a percentage such as 1%, got \"\(text)\"")
        }
        return .bytes(UInt64(bytes))
    }
}
