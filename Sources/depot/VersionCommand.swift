import ArgumentParser
import DepotServer
import Foundation

/// `depot version`: this client's version, and the server's when it can be reached (found as
/// the other admin commands find it), so a mismatch after an upgrade shows.
struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the client's version and, if it can be reached, the server's.")
    @OptionGroup var admin: AdminOptions

    func run() async throws {
        let client = "depot \(DepotVersion.current)"
        do {
            let status = try await admin.call(.GET, "/admin/v1/status")
            let target = try AdminTarget.resolve(endpoint: admin.endpoint, config: admin.config, region: admin.region)
            admin.emit(["client": DepotVersion.current, "server": status["version"] ?? NSNull(), "endpoint": target.url]) {
                "client: \(client)\nserver: depot \(show(status["version"])) at \(target.url)"
            }
        } catch let failure as CommandFailure {
            // The client's version is the answer asked for; the server's is a bonus.
            admin.emit(["client": DepotVersion.current, "server": NSNull(), "serverError": failure.description]) {
                "client: \(client)\nserver: unknown (\(failure.description))"
            }
        }
    }
}
