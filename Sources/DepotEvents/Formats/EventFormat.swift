import DepotConfig
import DepotEngine
import Foundation

/// Turns outbox records into the payload a sink's consumers expect.
public enum EventFormat {
    /// `configurationId`: the S3 format's `s3.configurationId` (the bucket notification
    /// configuration that routed the event, else the sink's name).
    public static func message(
        _ event: EventRecord, sink: SinkSettings, configurationId: String? = nil, region: String
    ) -> EventMessage {
        let object: [String: Any]
        switch sink.format {
        case .s3:
            object = S3EventFormat.notification(event, configurationId: configurationId ?? sink.name, region: region)
        case .kerberos: object = KerberosEventFormat.event(event, provider: sink.provider)
        }
        let body =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return EventMessage(key: event.key, body: Array(body), sequence: event.sequence)
    }

    /// `2026-11-25T05:01:02.345Z`, as S3 writes event times.
    static func isoTime(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(milliseconds % 1000))
    }
}
