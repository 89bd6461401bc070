/// The `# HELP` text of every series Depot exports. swift-metrics has no place for a
/// description, so the registry writes only `# TYPE` lines; `exposition(addingHelpTo:)` puts
/// each series' HELP line before its TYPE line. A new series needs its line here:
/// test_metrics_help.py scrapes a server that exercised every feature and fails on a series
/// without one.
enum MetricHelp {
    static let text: [String: String] = [
        // Requests (RequestMetrics).
        "depot_requests_total": "Requests answered, by API (s3, vault, admin, system), operation and status class.",
        "depot_request_duration_seconds": "Time from a request's head to its response's end, by API and operation.",
        "depot_request_errors_total": "Requests answered with an error, by API and the error code the answer carried.",
        "depot_bytes_received_total": "Request body bytes received, by API (ingest).",
        "depot_bytes_sent_total": "Response body bytes sent, by API (egress).",
        // Connections (ConnectionLimit, AcceptBackoff).
        "depot_connections_open": "Client connections open now.",
        "depot_connections_refused_total": "Connections closed at once because server.maxConnections were open.",
        "depot_accept_failures_total": "Accepts that failed for want of file descriptors (EMFILE), each followed by a pause.",
        // Storage (StorageGauges).
        "depot_objects": "Objects stored locally, by bucket.",
        "depot_logical_bytes": "Bytes of the objects stored locally (before deduplication), by bucket.",
        "depot_objects_total": "Objects stored locally, all buckets.",
        "depot_logical_bytes_total": "Bytes of the objects stored locally (before deduplication), all buckets.",
        "depot_stored_bytes": "Bytes of the chunks objects reference (after deduplication).",
        "depot_dedup_ratio": "Logical bytes divided by stored bytes.",
        "depot_segments": "Segment files on disk.",
        "depot_segment_bytes": "Bytes of all segment files.",
        "depot_segment_live_ratio": "Share of segment bytes that objects still reference.",
        "depot_index_map_bytes": "Size of the index's memory map.",
        "depot_index_used_bytes": "Bytes of the index's memory map in use.",
        "depot_outbox_events": "Events in the outbox not yet delivered to every sink.",
        "depot_device_free_bytes": "Free bytes on the data directory's device.",
        "depot_device_total_bytes": "Size of the data directory's device.",
        "depot_space_reserve_bytes": "Free space kept for deletes and compaction (storage.reserve); uploads get 507 below it.",
        "depot_space_refusals": "Upload chunks refused for want of space since the server started.",
        // Replication (StorageGauges).
        "depot_replication_backlog": "Tier tasks (copies and deletes) waiting, by tier.",
        "depot_replication_oldest_pending_seconds": "Age of the oldest waiting tier task since it was first queued (retries keep it), by tier.",
        "depot_tier_failing": "1 while the tier has failed for longer than its failingAfter without a success, by tier.",
        "depot_tier_breaker_open": "1 while the tier's circuit breaker holds its copies back (open or probing), by tier.",
        "depot_tier_consecutive_failures": "Failed attempts in a row on the tier since its last success, by tier.",
        "depot_replication_bytes_per_second": "Bytes copied to the tier per second, recent average, by tier.",
        "depot_replicated_bytes": "Bytes copied to the tier since the server started, by tier.",
        "depot_replication_failures_total": "Failed tier task attempts (each retry counts), by tier.",
        // Events (StorageGauges).
        "depot_event_backlog": "Events waiting for delivery, by sink.",
        "depot_event_oldest_pending_seconds": "Age of the oldest event waiting for delivery, by sink.",
        "depot_events_delivered": "Events delivered since the server started, by sink.",
        "depot_events_dropped": "Events given up on since the server started, by sink.",
        // Cluster mode (ClusterGauges).
        "depot_cluster_nodes_up": "Cluster nodes whose heartbeat is recent (within 15 s), as this node last read the registry.",
        "depot_cluster_nodes_down": "Registered cluster nodes without a heartbeat for 15 s, as this node last read the registry.",
        "depot_cluster_node_up": "1 while the node's heartbeat is recent, 0 once it missed 15 s of them, by node.",
        "depot_cluster_node_in_flight": "Uploads (S3 PUT and POST, Vault POST, tus PATCH) the node had in progress at its last heartbeat, by node (0 when down).",
        "depot_cluster_node_heartbeat_age_seconds": "Seconds since the node's last heartbeat, by node.",
        "depot_cluster_index_reachable": "1 while this node's heartbeat reaches the cluster index (PostgreSQL), else 0.",
        "depot_uploads_in_flight": "Uploads (S3 PUT and POST, Vault POST, tus PATCH) in progress on this node now (cluster mode).",
        // The live trace (TraceHub).
        "depot_trace_subscribers": "Live request traces (GET /admin/v1/trace, depot trace) running now.",
        "depot_trace_dropped_total": "Trace lines dropped because a trace reader fell behind.",
    ]

    /// `exposition` with a `# HELP` line before every `# TYPE` line whose series has a text.
    static func exposition(addingHelpTo exposition: [UInt8]) -> [UInt8] {
        let typePrefix = Array("# TYPE ".utf8)
        var result: [UInt8] = []
        result.reserveCapacity(exposition.count + exposition.count / 4)
        var lineStart = 0
        while lineStart < exposition.count {
            let lineEnd = exposition[lineStart...].firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? exposition.count
            let line = exposition[lineStart..<lineEnd]
            if line.starts(with: typePrefix) {
                let nameBytes = line.dropFirst(typePrefix.count).prefix { $0 != UInt8(ascii: " ") }
                if let help = text[String(decoding: nameBytes, as: UTF8.self)] {
                    result += Array("# HELP ".utf8) + nameBytes + [UInt8(ascii: " ")] + Array(help.utf8) + [UInt8(ascii: "\n")]
                }
            }
            result += line
            lineStart = lineEnd
        }
        return result
    }
}
