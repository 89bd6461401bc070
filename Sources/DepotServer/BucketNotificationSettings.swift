import DepotConfig
import DepotEngine
import DepotS3

extension RuntimeConfiguration {
    /// Adds the buckets' notification configurations (read from the stored bucket documents) to
    /// the event settings, resolved to the sinks their ARNs name, so the dispatcher matches events
    /// against rules parsed once per configuration, not per event.
    static func withBucketNotifications(
        _ applied: (configuration: DepotConfiguration, origins: [String: SettingOrigin], problems: [String]),
        _ engine: Engine
    ) throws -> (configuration: DepotConfiguration, origins: [String: SettingOrigin], problems: [String]) {
        var (configuration, origins, problems) = applied
        let found = try BucketNotificationRules.all(
            engine: engine, events: configuration.events, region: configuration.server.region)
        configuration.events.bucketRules = found.rules
        return (configuration, origins, problems + found.problems)
    }
}
