import Foundation
import Glibc

/// Swagger UI for the OpenAPI document, at `/swagger/index.html` and `/api/swagger/index.html`.
/// Its assets come from an installed swagger-ui-dist 5 (the copy PyPI's `drf-spectacular-sidecar`
/// ships, found at start, or the folder named by `DEPOT_SWAGGER_UI`), so the page works without
/// internet access; none of them is in Depot's repository. Swagger UI 4 (as in PyPI's
/// `swagger-ui-bundle`) cannot render OpenAPI 3.1, so it is not used. With none installed, the
/// page loads the assets from a public CDN.
struct SwaggerUI: Sendable {
    /// The folder holding swagger-ui-bundle.js and swagger-ui.css, if one was found.
    let assets: String?

    static let cdn = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
    static let files: Set<String> = [
        "swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js", "favicon-16x16.png",
        "favicon-32x32.png", "index.css", "oauth2-redirect.html",
    ]

    init(configured: String?) {
        assets = Self.locate(configured)
    }

    static func locate(_ configured: String?) -> String? {
        let environment = ProcessInfo.processInfo.environment["DEPOT_SWAGGER_UI"]
        for candidate in [configured, environment].compactMap({ $0 }) where Self.isDistribution(candidate) {
            return candidate
        }
        // Where pip puts packages: system, /usr/local, user and pyenv site-packages.
        var roots = ["/usr/lib", "/usr/local/lib", "/usr/lib64"]
        if let home = ProcessInfo.processInfo.environment["HOME"] {
            roots.append(home + "/.local/lib")
            if let versions = try? FileManager.default.contentsOfDirectory(atPath: home + "/.pyenv/versions") {
                roots += versions.map { home + "/.pyenv/versions/" + $0 + "/lib" }
            }
        }
        for root in roots {
            guard let pythons = try? FileManager.default.contentsOfDirectory(atPath: root) else { continue }
            for python in pythons where python.hasPrefix("python3") {
                for packages in ["site-packages", "dist-packages"] {
                    let dist =
                        "\(root)/\(python)/\(packages)/drf_spectacular_sidecar/static/drf_spectacular_sidecar/swagger-ui-dist"
                    if isDistribution(dist) { return dist }
                }
            }
        }
        return nil
    }

    static func isDistribution(_ folder: String) -> Bool {
        FileManager.default.fileExists(atPath: folder + "/swagger-ui-bundle.js")
            && FileManager.default.fileExists(atPath: folder + "/swagger-ui.css")
    }

    /// The page: relative asset links (so both mount points work), the document at /openapi.json.
    var indexHTML: String {
        let base = assets == nil ? Self.cdn + "/" : "./"
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <title>Depot API</title>
              <link rel="stylesheet" href="\(base)swagger-ui.css">
            </head>
            <body>
              <div id="swagger-ui"></div>
              <script src="\(base)swagger-ui-bundle.js"></script>
              <script>
                window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
              </script>
            </body>
            </html>
            """
    }

    /// An asset's bytes and content type; nil for anything but the distribution's known files.
    func asset(_ name: String) -> (bytes: [UInt8], type: String)? {
        guard let assets, Self.files.contains(name), let data = FileManager.default.contents(atPath: assets + "/" + name) else {
            return nil
        }
        let type =
            name.hasSuffix(".js")
            ? "application/javascript" : name.hasSuffix(".css") ? "text/css" : name.hasSuffix(".png") ? "image/png" : "text/html"
        return (Array(data), type)
    }
}
