import DepotHashing

/// The Kerberos Agent's recording name,
/// `<unix seconds>_<len>-<ms>_<camera>_<x-y-w-h>_<changes or token>_<duration ms>.mp4`, turned into
/// the user metadata Vault events and policies use. Camera names may contain spaces and
/// underscores, so the two leading and three trailing fields are taken from the ends and the
/// camera is what lies between. A name that does not follow the convention yields nothing.
public enum RecordingName {
    public static func metadata(of filename: String) -> [(String, String)] {
        var base = Substring(filename)
        if let dot = base.lastIndex(of: "."), !base[base.index(after: dot)...].contains("_") { base = base[..<dot] }
        let fields = base.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 6 else { return [] }
        let timestamp = fields[0]
        let microseconds = fields[1]
        let region = fields[fields.count - 3]
        let changes = fields[fields.count - 2]
        let duration = fields[fields.count - 1]
        let camera = fields[2..<(fields.count - 3)].joined(separator: "_")
        let regionParts = region.split(separator: "-", omittingEmptySubsequences: false)
        guard Int(timestamp) != nil, microseconds.split(separator: "-").count == 2,
            microseconds.split(separator: "-").allSatisfy({ Int($0) != nil }), !camera.isEmpty,
            regionParts.count == 4, regionParts.allSatisfy({ Int($0) != nil }), Int(changes) != nil, Int(duration) != nil
        else { return [] }
        return [
            ("event-timestamp", timestamp), ("event-microseconds", microseconds), ("event-instancename", camera),
            ("event-regioncoordinates", region), ("event-numberofchanges", changes), ("event-token", changes),
            ("duration", duration),
        ]
    }

    /// tus `Upload-Metadata`: comma-separated `key base64(value)` pairs.
    public static func uploadMetadata(_ header: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in header.split(separator: ",") {
            let parts = pair.split(separator: " ", omittingEmptySubsequences: true)
            guard let key = parts.first else { continue }
            let value = parts.count > 1 ? Base64Decode(String(parts[1])) : ""
            out[String(key)] = value
        }
        return out
    }
}

private func Base64Decode(_ text: String) -> String {
    guard let bytes = Base64.decode(text) else { return "" }
    return String(decoding: bytes, as: UTF8.self)
}
