import DepotEngine
import Glibc
import HTTPTypes
import HummingbirdCore
import NIOCore

/// The unauthenticated health probes: MinIO's (`/minio/health/live`, `/ready`, `/cluster`,
/// `/cluster/read`), so load balancers and Kubernetes probes written for MinIO work unchanged,
/// and Depot's own `/health/live` and `/health/ready` (JSON bodies).
///
/// MinIO's answers, as its healthcheck documentation describes them: GET or HEAD, an empty body,
/// 200 when the node is live, ready, or (cluster) has write quorum; 503 with
/// `X-Minio-Server-Status: offline` otherwise. The cluster probes name their quorum in
/// `X-Minio-Write-Quorum` / `X-Minio-Read-Quorum` (1: Depot is one node with one drive), and
/// `?maintenance=true` answers 412, as a MinIO node does whose going down would cost the quorum.
///
/// While the node drains before a stop (Drain), every readiness probe fails (`/health/ready`
/// says `the node is shutting down`) and liveness stays 200: a balancer takes the node out of
/// rotation, and nothing restarts it for being dead.
struct HealthEndpoints: Sendable {
    let engine: Engine
    let dataDirectory: String
    let drain: Drain

    /// The probe `path` names, or nil when it is no health path.
    enum Probe: String {
        case minioLive = "/minio/health/live"
        case minioReady = "/minio/health/ready"
        case minioCluster = "/minio/health/cluster"
        case minioClusterRead = "/minio/health/cluster/read"
        case live = "/health/live"
        case ready = "/health/ready"

        /// The operation name in metrics and the access log.
        var operation: String {
            switch self {
            case .minioLive: "minio/health/live"
            case .minioReady: "minio/health/ready"
            case .minioCluster: "minio/health/cluster"
            case .minioClusterRead: "minio/health/cluster/read"
            case .live: "health/live"
            case .ready: "health/ready"
            }
        }
    }

    /// The answer to a health path (`target` with its query), or nil when `target` is none.
    func response(target: String, method: HTTPRequest.Method) -> (operation: String, response: Response)? {
        // Nearly every request is no probe: its first bytes say so before any string is made.
        guard target.utf8.starts(with: "/health/".utf8) || target.utf8.starts(with: "/minio/health/".utf8) else {
            return nil
        }
        let question = target.firstIndex(of: "?")
        let path = String(question.map { target[..<$0] } ?? target[...])
        guard let probe = Probe(rawValue: path) else { return nil }
        guard method == .get || method == .head else {
            return (probe.operation, Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD", .contentLength: "0"]))
        }
        let query = question.map { String(target[target.index(after: $0)...]) } ?? ""
        return (probe.operation, answer(probe, maintenance: query.split(separator: "&").contains("maintenance=true")))
    }

    private func answer(_ probe: Probe, maintenance: Bool) -> Response {
        if probe != .live && probe != .minioLive {
            drain.probed()
            if drain.isDraining {
                if probe == .ready {
                    return json(.serviceUnavailable, "{\"status\":\"unavailable\",\"reason\":\"the node is shutting down\"}")
                }
                return offline()
            }
        }
        switch probe {
        case .live:
            return json(.ok, "{\"status\":\"ok\"}")
        case .ready:
            guard let problem = writeProblem() else { return json(.ok, "{\"status\":\"ok\"}") }
            return json(.serviceUnavailable, "{\"status\":\"unavailable\",\"reason\":\"\(problem)\"}")
        case .minioLive:
            return empty(.ok)
        case .minioReady:
            return writeProblem() == nil ? empty(.ok) : offline()
        case .minioCluster:
            guard writeProblem() == nil else { return offline() }
            let headers: HTTPFields = [HTTPField.Name("X-Minio-Write-Quorum")!: "1"]
            // One node: taking it down for maintenance always loses the quorum.
            return empty(maintenance ? .preconditionFailed : .ok, headers)
        case .minioClusterRead:
            guard readProblem() == nil else { return offline() }
            return empty(.ok, [HTTPField.Name("X-Minio-Read-Quorum")!: "1"])
        }
    }

    /// Why the store cannot serve reads now, or nil: the index does not answer. In cluster mode
    /// the node still answers reads of objects it read shortly before (its outage cache), but a
    /// balancer should send traffic to a node that reaches the index.
    func readProblem() -> String? {
        do {
            _ = try engine.listBuckets(limit: 1)
        } catch {
            if EngineError.indexFailure(error) != nil {
                return "the cluster index (PostgreSQL) cannot be reached: writes and listings get 503 until it answers"
            }
            return "the index does not answer"
        }
        return nil
    }

    /// Why the store cannot take writes now, or nil: the index does not answer, the data
    /// directory refuses a file, or the free space is down to the reserve (uploads get 507).
    func writeProblem() -> String? {
        if let problem = readProblem() { return problem }
        let probe = dataDirectory + "/.ready-probe"
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return "the data directory is not writable" }
        close(fd)
        unlink(probe)
        if let space = engine.space(), space.availableForUploads == 0 {
            return "the data device's free space is down to the reserve (storage.reserve)"
        }
        return nil
    }

    private func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .contentLength: String(body.utf8.count)],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private func empty(_ status: HTTPResponse.Status, _ headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentLength] = "0"
        return Response(status: status, headers: headers)
    }

    /// MinIO's 503: the node is up but cannot serve what the probe asks.
    private func offline() -> Response {
        empty(.serviceUnavailable, [HTTPField.Name("X-Minio-Server-Status")!: "offline"])
    }
}
