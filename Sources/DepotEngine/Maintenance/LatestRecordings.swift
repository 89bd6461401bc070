import Synchronization

/// The newest recording committed for each camera, for the console's cameras page: found by the
/// device key (`productid`) and the camera name (`event-instancename`) a Kerberos Agent puts in
/// its uploads' metadata. Bounded: once `capacity` cameras are known, a new one replaces the one
/// that recorded longest ago. Kept across restarts in the same file as the ingest history
/// (IngestHistoryFile.swift), since finding it again would mean reading every object's metadata.
public final class LatestRecordings: Sendable {
    public struct Recording: Sendable, Equatable {
        public var bucket: String
        public var key: String
        /// When it was committed (ms).
        public var at: Int64
    }

    public static let capacity = 10_000
    private let latest = Mutex<[String: Recording]>([:])

    public init() {}

    /// Lookup names of an upload: "device:KEY" and "camera:NAME" for the metadata it carries.
    static func names(of userMetadata: [(String, String)]) -> [String] {
        var names: [String] = []
        for (name, value) in userMetadata where !value.isEmpty {
            if name == "productid" { names.append("device:" + value) }
            if name == "event-instancename" { names.append("camera:" + value) }
        }
        return names
    }

    func record(bucket: String, key: String, userMetadata: [(String, String)], at: Int64) {
        let names = Self.names(of: userMetadata)
        guard !names.isEmpty else { return }
        let recording = Recording(bucket: bucket, key: key, at: at)
        latest.withLock { latest in
            for name in names {
                if latest[name] == nil, latest.count >= Self.capacity,
                    let oldest = latest.min(by: { $0.value.at < $1.value.at })?.key
                {
                    latest[oldest] = nil
                }
                latest[name] = recording
            }
        }
    }

    /// Every name with its recording (what the file keeps).
    func entries() -> [(name: String, recording: Recording)] {
        latest.withLock { latest in latest.map { ($0.key, $0.value) } }
    }

    /// Puts entries read back from the file in place; a name recorded since start keeps its newer recording.
    func restore(_ entries: [(name: String, recording: Recording)]) {
        latest.withLock { latest in
            for (name, recording) in entries where latest.count < Self.capacity || latest[name] != nil {
                if let known = latest[name], known.at >= recording.at { continue }
                latest[name] = recording
            }
        }
    }

    /// The newest recording of the device with heartbeat key `device`, else of the camera named `camera`.
    public func latest(device: String, camera: String) -> Recording? {
        latest.withLock { latest in
            latest["device:" + device] ?? (camera.isEmpty ? nil : latest["camera:" + camera])
        }
    }
}
