import DepotConfig
import DepotEngine
import DepotHashing
import DepotObjectBody
import DepotS3
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore

/// The web console under `/console/` (README "Console"): server-rendered pages for people, on the
/// server's own port. Sign-in takes an account's keys (or root's); every page and action is
/// limited by the S3 door's access rule for that account (S3Service.consoleAllows), and reading
/// an object goes through the S3 door itself with a presigned URL, so Range requests, SSE and
/// Object Lock behave exactly as for any S3 client.
public final class ConsoleService: Sendable {
    let engine: Engine
    let s3: S3Service
    let accounts: any AccountDirectory
    let region: String
    /// Over TLS: cookies get `Secure`, and policies see `aws:SecureTransport`.
    let secure: Bool
    let sessions: SessionStore
    let throttle: SignInThrottle
    /// The tiers in effect (they change with reloads and the admin API): where "Replicate now" may copy to.
    let tierNames: @Sendable () -> [String]
    /// The admin API's own handlers, for the tier, policy, account and event pages (ConsoleAdmin.swift).
    let admin: ConsoleAdminCall?
    let logger: Logger

    static let sessionCookie = "depot_console"
    /// The token of the sign-in form before there is a session (double-submit: form and cookie must match).
    static let signInCookie = "depot_console_signin"

    public init(
        engine: Engine, s3: S3Service, accounts: any AccountDirectory, region: String, secure: Bool, logger: Logger,
        tierNames: @escaping @Sendable () -> [String] = { [] }, admin: ConsoleAdminCall? = nil,
        sharedSessionKey: [UInt8]? = nil
    ) {
        self.admin = admin
        self.tierNames = tierNames
        self.engine = engine
        self.s3 = s3
        self.accounts = accounts
        self.region = region
        self.secure = secure
        self.logger = logger
        // Cluster mode: sessions signed with the key every node shares (SessionStore).
        sessions = SessionStore(sharedKey: sharedSessionKey)
        throttle = SignInThrottle()
    }

    /// The answer to `/` when a browser asks for it (BrowserVisit decides when): the console.
    public static func redirectToConsole() -> Response { redirect("/console/") }

    /// Every request under `/console`. HEAD is answered as GET (same routing, status and headers,
    /// Content-Length included) with the body left out, here for every page and asset at once.
    public func respond(to request: Request) async -> Response {
        guard request.method == .head else { return await route(request, method: request.method) }
        let answer = await route(request, method: .get)
        return Response(status: answer.status, headers: answer.headers, body: ResponseBody())
    }

    /// The console's routes, the one place they are registered.
    private func route(_ request: Request, method: HTTPRequest.Method) async -> Response {
        let target = request.head.path ?? "/console/"
        let question = target.firstIndex(of: "?")
        let path = String(question.map { target[..<$0] } ?? target[...])
        let query = HTTPForm.fields(question.map { target[target.index(after: $0)...] } ?? "")
        RequestOutcome.current?.record { $0.operation = "console" }
        if path.hasPrefix("/console/assets/") {
            guard method == .get,
                let asset = Assets.asset(named: String(path.dropFirst("/console/assets/".count)))
            else { return problem(.notFound, "Not found", "There is no such page.", nil) }
            return Response(
                status: .ok,
                headers: [
                    .contentType: asset.type, .contentLength: String(asset.body.utf8.count),
                    .cacheControl: "public, max-age=3600", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                ], body: .init(byteBuffer: ByteBuffer(string: asset.body)))
        }
        let cookies = HTTPForm.cookies(request.headers)
        let session = cookies[Self.sessionCookie].flatMap { sessions.session($0) }
        let account = session.flatMap { accounts.account(accessKey: $0.accessKey) }.flatMap { $0.enabled ? $0 : nil }
        switch (method, path) {
        case (.get, "/console"), (.get, "/console/"):
            return Self.redirect(account == nil ? "/console/signin" : "/console/buckets")
        case (.get, "/console/signin"):
            return signInPage(error: nil, accessKey: "")
        case (.post, "/console/signin"):
            return await signIn(request, cookies: cookies)
        default: break
        }
        guard let session, let account else {
            // Not signed in (or the session ended): pages send the browser to sign in; forms are refused.
            if method == .get { return Self.redirect("/console/signin") }
            return problem(.forbidden, "Not signed in", "Sign in first; your session may have expired.", nil)
        }
        let viewer = Viewer(account: account, session: session)
        RequestOutcome.current?.record {
            $0.accessKey = account.accessKey
            $0.account = account.name
        }
        if method == .post {
            guard let form = await formFields(request) else {
                return problem(.contentTooLarge, "Form too large", "The form holds more than the console accepts.", viewer)
            }
            guard let token = form["csrf"], constantTimeEquals(token, session.csrfToken) else {
                return problem(
                    .forbidden, "Refused", "The form's security token is missing or wrong (CSRF). Reload the page and try again.",
                    viewer)
            }
            switch path {
            case "/console/signout": return signOut(session)
            case "/console/delete": return await deleteObject(form, viewer: viewer, request: request)
            case "/console/replicate": return await replicateObject(form, viewer: viewer)
            case "/console/lock/legal-hold": return await setLegalHold(form, viewer: viewer, request: request)
            case "/console/lock/retention": return await setRetention(form, viewer: viewer, request: request)
            case "/console/tiers": return await createTier(form, viewer: viewer)
            case "/console/tiers/check": return await checkTier(form, viewer: viewer)
            case "/console/policies": return await submitPolicy(form, viewer: viewer)
            case "/console/accounts": return await createAccount(form, viewer: viewer)
            case "/console/events", "/console/events/edit", "/console/events/delete", "/console/events/validate":
                return await submitSinkForm(path, form, viewer: viewer)
            default:
                if let answer = await submitEdit(path, form, viewer: viewer) { return answer }
                return problem(.notFound, "Not found", "There is no such form.", viewer)
            }
        }
        guard method == .get else {
            return problem(.methodNotAllowed, "Not allowed", "\(method) is not used by the console.", viewer)
        }
        switch path {
        case "/console/buckets": return bucketsPage(viewer)
        case "/console/dashboard": return await dashboardPage(viewer)
        case "/console/cameras": return camerasPage(viewer)
        case "/console/tiers": return await tiersPage(viewer, form: ["type": query["type"] ?? ""])
        case "/console/tier":
            return await tierPage(
                query["name"] ?? "", viewer: viewer, confirmDelete: query["confirm"] == "delete",
                showFailed: query["failed"] == "show")
        case "/console/policies": return await policiesPage(viewer)
        case "/console/policy":
            return await policyPage(query["name"] ?? "", viewer: viewer, confirmDelete: query["confirm"] == "delete")
        case "/console/account":
            return await accountPage(query["accessKey"] ?? "", viewer: viewer, confirmDelete: query["confirm"] == "delete")
        case "/console/accounts": return await accountsPage(viewer)
        case "/console/events": return await eventsPage(viewer, kind: query["type"] ?? "")
        case "/console/event":
            return await sinkPage(query["name"] ?? "", viewer: viewer, confirmDelete: query["confirm"] == "delete")
        case "/console/list": return listPage(query, viewer: viewer)
        case "/console/timeline": return timelinePage(query, viewer: viewer)
        case "/console/object": return objectPage(query, viewer: viewer, host: host(of: request))
        default: return problem(.notFound, "Not found", "There is no such page.", viewer)
        }
    }

    // MARK: Sign-in and sign-out

    private func signInPage(error: String?, accessKey: String, status: HTTPResponse.Status = .ok) -> Response {
        let token = SessionStore.token()
        var values: [String: Any] = ["title": "Sign in", "signinToken": token, "accessKey": accessKey]
        if let error { values["error"] = error }
        var response = page("signin", values, status: status)
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.signInCookie, token, maxAge: 900)))
        return response
    }

    private func signIn(_ request: Request, cookies: [String: String]) async -> Response {
        let address = RequestContext.clientAddress ?? "unknown"
        guard throttle.mayTry(address) else {
            var response = signInPage(
                error: "Too many failed sign-ins from this address; wait a few minutes.", accessKey: "",
                status: .tooManyRequests)
            response.headers[.retryAfter] = String(throttle.windowSeconds)
            return response
        }
        guard let form = await formFields(request) else {
            return problem(.contentTooLarge, "Form too large", "The form holds more than the console accepts.", nil)
        }
        guard let expected = cookies[Self.signInCookie], let token = form["csrf"], constantTimeEquals(expected, token) else {
            return problem(
                .forbidden, "Refused", "The form's security token is missing or wrong (CSRF). Reload the page and try again.", nil
            )
        }
        let accessKey = form["accessKey"] ?? ""
        guard let account = accounts.account(accessKey: accessKey), account.enabled,
            constantTimeEquals(account.secretKey, form["secretKey"] ?? "")
        else {
            throttle.recordFailure(address)
            RequestOutcome.current?.record { $0.errorCode = "SignInFailed" }
            return signInPage(error: "Wrong access key or secret key.", accessKey: accessKey, status: .unauthorized)
        }
        RequestOutcome.current?.record { $0.accessKey = account.accessKey }
        // Always a new id, whatever cookie came with the form (no session fixation).
        let session = sessions.create(accessKey: account.accessKey)
        var response = Self.redirect("/console/buckets")
        response.headers.append(
            HTTPField(name: .setCookie, value: cookie(Self.sessionCookie, session.id, maxAge: Int(sessions.lifetimeSeconds))))
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.signInCookie, "", maxAge: 0)))
        return response
    }

    private func signOut(_ session: ConsoleSession) -> Response {
        sessions.remove(session.id)
        var response = Self.redirect("/console/signin")
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.sessionCookie, "", maxAge: 0)))
        return response
    }

    /// HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it), Secure over TLS.
    private func cookie(_ name: String, _ value: String, maxAge: Int) -> String {
        "\(name)=\(value); Path=/console; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    private func formFields(_ request: Request) async -> [String: String]? {
        var body = request.body
        guard let bytes = try? await body.collect(upTo: HTTPForm.maximumBodyBytes) else { return nil }
        return HTTPForm.fields(String(decoding: bytes.readableBytesView, as: UTF8.self))
    }

    // MARK: Rendering

    /// The signed-in person, for the page header and the access checks.
    struct Viewer {
        let account: Account
        let session: ConsoleSession
    }

    func page(_ template: String, _ values: [String: Any], viewer: Viewer? = nil, status: HTTPResponse.Status = .ok)
        -> Response
    {
        var values = values
        if let viewer {
            values["user"] = viewer.account.name.isEmpty ? viewer.account.accessKey : viewer.account.name
            values["csrf"] = viewer.session.csrfToken
            values["admin"] = mayViewServer(viewer)
        }
        let html = Templates.library.render(values, withTemplate: template) ?? ""
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .contentLength: String(html.utf8.count), .cacheControl: "no-store",
                // Only the console's own script, styles, forms and the S3 door's media: injected markup could run nothing.
                HTTPField.Name("Content-Security-Policy")!:
                    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                // Presigned links in the page must not leak to other sites through Referer.
                HTTPField.Name("Referrer-Policy")!: "no-referrer",
            ], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func problem(_ status: HTTPResponse.Status, _ heading: String, _ message: String, _ viewer: Viewer?) -> Response {
        RequestOutcome.current?.record { $0.errorCode = heading.replacingOccurrences(of: " ", with: "") }
        return page("problem", ["title": heading, "heading": heading, "message": message], viewer: viewer, status: status)
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .contentLength: "0", .cacheControl: "no-store"])
    }

    /// The Host the browser used: presigned URLs sign it, and the browser sends it back unchanged.
    func host(of request: Request) -> String {
        request.head.authority ?? "localhost"
    }
}
