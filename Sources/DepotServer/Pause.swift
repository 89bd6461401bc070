import ServiceLifecycle

/// Waits `interval` between rounds of a periodic service; false once the service group is shutting
/// down, so the loop ends instead of keeping the group waiting for a sleep.
func pauseUnlessShuttingDown(_ interval: Duration) async -> Bool {
    do {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
    } catch { return false }
    return !Task.isShuttingDownGracefully
}
