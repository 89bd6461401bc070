import DepotEngine
import HTTPTypes

/// Which requests count as uploads in progress: a cluster node's `in_flight` in `depot_nodes`
/// (its heartbeat), `GET /admin/v1/cluster` and `depot_uploads_in_flight`. Those that carry data
/// to store: S3 PUT and POST (objects, parts, copies, browser forms), Vault's POST and tus's
/// creation POST and PATCH (the agents' resumable uploads). The admin API and the console change
/// settings, never object data, and are left out; so are reads, whatever their length.
enum UploadRequests {
    static func counts(method: HTTPRequest.Method, path: String) -> Bool {
        guard method == .put || method == .post || method == .patch else { return false }
        return !ReservedPath.admin.covers(path) && !ReservedPath.console.covers(path)
    }
}
