import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes
import NIOSSL

/// Answers `POST /mutate` on the connection's event loop, without handing the request to the
/// router's task.
///
/// An admission review is pure computation over in-memory caches (tens of microseconds), so the
/// hops a routed request takes (event loop → connection task → back to the event loop to write)
/// cost more than the answer itself. This handler sits between Hummingbird's connection-state
/// handler and the router: for a review it can answer here, it collects the body and writes the
/// answer computed by the same `LocusRoutes.answerMutate` the routed `/mutate` uses. Everything
/// else passes through untouched, and so does a review whenever the router must keep the order
/// or the rules of the connection:
/// - a routed request on this connection is still being answered (answers stay in request order);
/// - the body has no `Content-Length`, or one over the router's limit (413 stays the router's)
///   or over `maxBytes` (a very large pod is answered off the event loop, so it cannot hold up
///   the loop's other connections);
/// - the content type is not JSON (415), `Expect` or `Connection: close` is sent;
/// - a client certificate is required and the client did not present one (401);
/// - the connection is not writable (the router applies back-pressure).
final class MutateOnEventLoop: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        /// The current request belongs to the router.
        case passing
        /// A review answered here: its body so far.
        case collecting(ByteBuffer, start: ContinuousClock.Instant)
    }

    private let routes: LocusRoutes
    private let maxBytes: Int
    private var state = State.idle
    /// Requests handed to the router whose answer has not been written whole yet.
    private var routedInFlight = 0
    /// Whether the client presented a certificate (asked once; it is fixed for the connection).
    private var hasClientCertificate: Bool?
    private var date = HTTPDate()

    init(routes: LocusRoutes, maxBytes: Int) {
        self.routes = routes
        self.maxBytes = maxBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if routedInFlight == 0, let length = answerableLength(head, context: context) {
                state = .collecting(context.channel.allocator.buffer(capacity: length), start: .now)
                return
            }
            routedInFlight += 1
            state = .passing
            context.fireChannelRead(data)
        case .body(let chunk):
            guard case .collecting(var body, let start) = state else { return context.fireChannelRead(data) }
            state = .idle  // drop the reference while appending, so the buffer is not copied
            var chunk = chunk
            body.writeBuffer(&chunk)
            state = .collecting(body, start: start)
        case .end:
            guard case .collecting(let body, let start) = state else {
                state = .idle
                return context.fireChannelRead(data)
            }
            state = .idle
            answer(body, start: start, context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // (Also ends answers to requests the router never saw, such as a 400 for an unparsable head.)
        if case .end = unwrapOutboundIn(data) { routedInFlight = max(0, routedInFlight - 1) }
        context.write(data, promise: promise)
    }

    /// The body's announced length when this request is a review answered here; nil to route it.
    private func answerableLength(_ head: HTTPRequest, context: ChannelHandlerContext) -> Int? {
        guard head.method == .post, let path = head.path, Self.isMutatePath(path),
            let length = Self.answerableBodyLength(head.headerFields),
            length <= min(maxBytes, routes.maxRequestBytes),
            context.channel.isWritable
        else { return nil }
        if routes.requireClientCertificate {
            if hasClientCertificate == nil {
                hasClientCertificate = ((try? context.pipeline.syncOperations.nioSSL_peerCertificate()) ?? nil) != nil
            }
            guard hasClientCertificate == true else { return nil }
        }
        return length
    }

    /// The `Content-Length` of a JSON body sent without `Expect` or `Connection: close`; nil
    /// otherwise (also for a repeated `Content-Type` or `Content-Length`, which the router
    /// judges). One pass over the fields: a lookup by name would build the fields' index first.
    static func answerableBodyLength(_ fields: HTTPFields) -> Int? {
        var type: String?
        var length: String?
        for field in fields {
            switch field.name {
            case .contentType:
                guard type == nil else { return nil }
                type = field.value
            case .contentLength:
                guard length == nil else { return nil }
                length = field.value
            case .expect:
                return nil
            case .connection where field.value.lowercased() == "close":
                return nil
            default:
                continue
            }
        }
        guard let type, LocusRoutes.isJSON(type), let length else { return nil }
        return Int(length)
    }

    /// `/mutate`, with or without a query (kube-apiserver adds `?timeout=10s`).
    static func isMutatePath(_ target: String) -> Bool {
        let path = target.utf8.firstIndex(of: UInt8(ascii: "?")).map { target[..<$0] } ?? Substring(target)
        return path == Route.mutate.rawValue
    }

    private func answer(_ body: ByteBuffer, start: ContinuousClock.Instant, context: ChannelHandlerContext) {
        let (status, bytes) = routes.answerMutate(body)
        let fields: HTTPFields = [.contentType: "application/json", .contentLength: String(bytes.count), .date: date.now()]
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: bytes))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        routes.metrics.recordRequest(route: Route.mutate.label, code: status.code, duration: .now - start)
    }
}
