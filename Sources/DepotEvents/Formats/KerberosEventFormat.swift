import DepotEngine

/// The Kerberos Vault pipeline event, so consumers written for Vault (Kerberos Hub's pipeline,
/// the kafka-handler examples, ML services) keep working unchanged: `events` is the pipeline's
/// remaining stages, `source` the storage provider name they pass back as
/// `X-Kerberos-Storage-Provider`, `request` persist or ondemand, `date` Unix seconds.
enum KerberosEventFormat {
    /// The Hub pipeline's stages after an upload.
    static let pipeline = ["monitor", "sequence", "analysis", "throttler", "notification"]

    static func event(_ event: EventRecord, provider: String) -> [String: Any] {
        var payload: [String: Any] = [
            "key": event.key, "fileSize": event.size, "timestamp": event.time / 1000,
            "metadata": Dictionary(event.userMetadata, uniquingKeysWith: { a, _ in a }),
        ]
        if !event.etag.isEmpty { payload["etag"] = event.etag }
        var out: [String: Any] = [
            "events": event.kind == .created ? pipeline : [],
            "provider": "kstorage",
            // The Vault provider the recording was uploaded through (consumers send it back as
            // X-Kerberos-Storage-Provider, and an account refuses names it does not have), else
            // the sink's configured name.
            "source": event.userMetadata.first { $0.0 == "provider" }?.1 ?? provider,
            "request": event.request,
            "date": event.time / 1000,
            "operation": event.kind.name,
            "bucket": event.bucket,
            "fileName": event.key,
            "payload": payload,
        ]
        if !event.tier.isEmpty { out["secondary_providers"] = event.tier.split(separator: ",").map(String.init) }
        if !event.detail.isEmpty { out["error"] = event.detail }
        return out
    }
}
