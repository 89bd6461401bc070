import DepotEngine
import HummingbirdCore

/// The cameras (Kerberos Agents) that sent Vault heartbeats: status, last seen, what they report
/// and the accounts they belong to. An account sees its own devices (those its uploads or
/// heartbeats named), as Vault's `GET /api/devices` answers it; an admin sees every device.
extension ConsoleService {
    /// A device is online when its latest heartbeat is at most this old (the Vault API's rule).
    static let onlineWithinMilliseconds: Int64 = 60_000
    /// The most devices one page shows.
    static let camerasShown = 1000

    func camerasPage(_ viewer: Viewer) -> Response {
        let everyone = mayViewServer(viewer)
        let devices: [DeviceRecord]
        do {
            devices = try engine.devices(owner: everyone ? nil : viewer.account.accessKey)
        } catch {
            return problem(.internalServerError, "Devices unreadable", "The index did not answer: \(error)", viewer)
        }
        let now = Engine.now()
        let rows: [[String: Any]] = devices.sorted { $0.lastSeen > $1.lastSeen }.prefix(Self.camerasShown).map { device in
            let info = Dictionary(device.info, uniquingKeysWith: { first, _ in first })
            let online = now - device.lastSeen <= Self.onlineWithinMilliseconds
            var row: [String: Any] = [
                "key": device.key, "camera": info["cameraname"] ?? "", "status": online ? "ONLINE" : "OFFLINE",
                "lastSeen": Self.time(milliseconds: device.lastSeen), "version": info["version"] ?? "",
            ]
            // Mustache shows a section for an empty string too: only a real host name is passed.
            if let hostname = info["hostname"], !hostname.isEmpty { row["hostname"] = hostname }
            // Only an admin sees which accounts a device belongs to (other accounts' keys are theirs).
            if everyone { row["accounts"] = device.owners.joined(separator: ", ") }
            // Camera names are not unique across accounts: a recording is linked only where the viewer may read it.
            if let latest = engine.latestRecordings.latest(device: device.key, camera: info["cameraname"] ?? ""),
                allows(viewer, .read(key: latest.key), bucket: latest.bucket)
            {
                row["lastRecording"] = String(latest.key.split(separator: "/").last ?? Substring(latest.key))
                row["lastRecordingLink"] = objectLink(bucket: latest.bucket, key: latest.key)
                row["lastRecordingTime"] = Self.time(milliseconds: latest.at)
            }
            return row
        }
        return page(
            "cameras",
            [
                "title": "Cameras", "cameras": rows, "hasCameras": !rows.isEmpty, "showAccounts": everyone,
                "truncated": devices.count > Self.camerasShown,
            ], viewer: viewer)
    }
}
