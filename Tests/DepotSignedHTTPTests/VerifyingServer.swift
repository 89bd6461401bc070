import DepotHashing
import DepotSigV4
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 server on 127.0.0.1 that checks every request's SigV4 signature with
/// DepotSigV4's verifier, as the S3 front door (or AWS) would, and answers with what it saw.
///
/// - `GET /big`: 2000 bytes of `x`, unsigned (for the body limit).
/// - `GET /slow`: answers after two seconds (for the timeout).
/// - anything else: 403 with the verifier's error, 400 when the body's SHA-256 is not the signed
///   one, else 200 with lines `name: value` describing the request.
final class VerifyingServer: Sendable {
    static let credentials = SigV4Credentials(accessKey: "AKIDSIGNEDHTTP", secretKey: "signed-http-test-secret")
    let channel: any Channel
    let region: String
    let service: String

    var port: Int { channel.localAddress?.port ?? 0 }

    init(region: String, service: String) async throws {
        self.region = region
        self.service = service
        let verifier = SigV4Verifier(region: region, service: service)
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(VerifyingHandler(verifier: verifier))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func stop() async throws { try await channel.close() }
}

private final class VerifyingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let verifier: SigV4Verifier
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    init(verifier: SigV4Verifier) { self.verifier = verifier }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            guard let head else { return }
            answer(head, context: context)
        }
    }

    private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        switch head.uri {
        case "/big":
            respond(.ok, String(repeating: "x", count: 2000), context: context)
        case "/slow":
            // Far longer than the client's timeout and than the test's bound, so a loaded machine
            // (2 cores, test suites running in parallel) cannot let the answer beat the timeout.
            context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(30)) {
                self.respond(.ok, "late", context: context)
            }
        default:
            let (status, text) = verify(head)
            respond(status, text, context: context)
        }
    }

    private func verify(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String) {
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let request = SigV4Request(
            method: head.method.rawValue, rawPath: String(parts[0]), rawQuery: parts.count > 1 ? String(parts[1]) : "",
            headers: head.headers.map { ($0.name, $0.value) } + bodyHashHeader(head))
        do {
            guard let claim = try verifier.claim(of: request) else { return (.forbidden, "anonymous") }
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let verified = try verifier.verify(
                claim, secretKey: VerifyingServer.credentials.secretKey, now: Int(now.tv_sec))
            if case .sha256(let expected) = verified.payload, expected != DigestAlgorithm.sha256.hash(body) {
                return (.badRequest, "XAmzContentSHA256Mismatch")
            }
            let lines = [
                "method: \(head.method.rawValue)", "path: \(parts[0])", "query: \(request.rawQuery)",
                "host: \(request.value(of: "host") ?? "")", "signed: \(claim.signedHeaders.joined(separator: ";"))",
                "payload: \(claim.payloadHashValue)", "length: \(body.count)",
                "content-type: \(request.value(of: "content-type") ?? "")",
            ]
            return (.ok, lines.joined(separator: "\n"))
        } catch {
            return (.forbidden, "\(error)")
        }
    }

    /// Services other than S3 (SQS) send no `x-amz-content-sha256`: AWS hashes the body it
    /// received into the canonical request, so a signature holds only over the body sent. The
    /// verifier reads the hash from that header, so it is added here from the received body.
    private func bodyHashHeader(_ head: HTTPRequestHead) -> [SigV4Header] {
        guard verifier.service != "s3", !head.headers.contains(name: "x-amz-content-sha256") else { return [] }
        return [("x-amz-content-sha256", PayloadHash(body: body).value)]
    }

    private func respond(_ status: HTTPResponseStatus, _ text: String, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: String(text.utf8.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
