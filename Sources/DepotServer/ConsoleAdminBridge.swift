import DepotConfig
import Foundation
import HTTPTypes

/// The console's admin pages (Sources/DepotConsole/TiersPages.swift, …) call the admin API's own
/// routes through this: the same handlers, so the same validation and the same errors naming
/// the field. The console has already checked the session and the account's server-wide admin
/// right, so SigV4 is not asked for here.
extension AdminAPI {
    func consoleCall(method: String, path: String, body: [UInt8]) async -> (status: Int, json: [UInt8]) {
        let target = path.split(separator: "?", maxSplits: 1).map(String.init)
        let endpoint = AdminEndpoint(method: HTTPRequest.Method(method) ?? .get, path: target[0])
        var failure: AdminFailure
        do {
            guard case .route(let route, let parameters) = endpoint else {
                throw AdminFailure(.notFound, "no admin operation \(method) \(target[0])")
            }
            let call = AdminRequest(
                parameters: parameters, query: AdminRequest.parseQuery(target.count > 1 ? target[1] : ""), body: body)
            let reply = try await route.handler(self, call)
            let data = (try? JSONSerialization.data(withJSONObject: reply.body, options: [.sortedKeys])) ?? Data("{}".utf8)
            return (Int(reply.status.code), Array(data))
        } catch let error as AdminFailure {
            failure = error
        } catch let error as ConfigError {
            // As AdminAPI.respond names it: the document's path without its leading dot.
            let field = error.path.hasPrefix(".") ? String(error.path.dropFirst()) : error.path
            failure = AdminFailure(.badRequest, error.message, field: field)
        } catch {
            failure = AdminFailure(.internalServerError, "\(error)")
        }
        var object: [String: Any] = ["error": failure.message]
        if let field = failure.field { object["field"] = field }
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        return (Int(failure.status.code), Array(data))
    }
}
