import DepotEngine
import ServiceLifecycle

/// Saves the console's ingest history (and the cameras' last recordings) to the data directory
/// once a minute when it changed, so a crash loses at most a minute of the figures; a clean stop
/// saves once more in `Engine.shutdown`.
struct IngestHistoryKeeper: Service {
    let engine: Engine
    var interval: Duration = .seconds(60)

    func run() async throws {
        while await pauseUnlessShuttingDown(interval) {
            engine.saveIngestHistory()
        }
    }
}
