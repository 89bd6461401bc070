import DepotVault
import Foundation
import Yams

/// The OpenAPI document as JSON (converted once from the YAML source), and the list of routes
/// the server answers under `/admin/v1` and `/api`, which the document must cover exactly.
public enum OpenAPI {
    static let json: [UInt8] = {
        do {
            let object = try Yams.load(yaml: yaml)
            return Array(
                try JSONSerialization.data(withJSONObject: object as Any, options: [.sortedKeys, .withoutEscapingSlashes]))
        } catch {
            return Array("{\"error\": \"the OpenAPI document does not parse: \(error)\"}".utf8)
        }
    }()

    /// `METHOD /path` of every admin and Vault operation, with `{name}` parameters (an object
    /// key parameter is written `{key}`).
    public static var routes: [String] {
        AdminAPI.routes.map { "\($0.method.rawValue) \($0.pattern.replacingOccurrences(of: "+}", with: "}"))" }
            + VaultService.routes.map { "\($0.method.rawValue) \($0.path)" }
    }
}
