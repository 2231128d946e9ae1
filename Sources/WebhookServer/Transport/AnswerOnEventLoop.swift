import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOSSL

/// Answers `POST /mutate`, `/filter` and `/prioritize` on the connection's event loop, without
/// handing the request to the router's task.
///
/// An admission review, and a filter or prioritize over a thousand nodes, is pure computation
/// over in-memory caches (tens to hundreds of microseconds), so the hops a routed request takes
/// (event loop → connection task → back to the event loop to write) cost about as much as the
/// answer itself. So does the conversion of each request and response between NIO's HTTP/1 parts
/// and HTTP types. This handler sits right behind the HTTP/1 decoder's own handlers (pipelining,
/// `RequestReadDeadline`), in front of that conversion, Hummingbird's connection-state handler
/// and the router: for a request it can answer here, it collects the body and writes the answer
/// of the route's own definition (`LocusRoutes.answer`, with its body limit and JSON check, as
/// the router serves it; `LocusRoutes+Deciding.swift`).
/// The connection-state handler never sees these requests, so what it would do for them is done
/// by the handlers in front of this one, which see every request and response: the idle timeout
/// is `RequestReadDeadline`'s, and a request to quiesce (graceful shutdown) is taken by NIO's
/// pipelining handler, which closes the connection once the request being read is answered.
/// An answer is written at once and flushed when the event loop's turn ends (`flushAfterThisTurn`),
/// so the requests of every connection ready in one turn are decided back to back.
/// Everything else passes through untouched, and so does one of these requests whenever the
/// router must keep the order or the rules of the connection:
/// - a routed request on this connection is still being answered (answers stay in request order);
/// - the request is not HTTP/1.1;
/// - the body has no `Content-Length`, or one over the router's limit (413 stays the router's)
///   or over `maxBytes` (a very large pod, or thousands of node names, is answered off the event
///   loop, so it cannot hold up the loop's other connections);
/// - the content type is not JSON (415), `Expect` or `Connection: close` is sent;
/// - a client certificate is required and the client did not present one (401);
/// - the connection is not writable (the router applies back-pressure).
final class AnswerOnEventLoop: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// The current request belongs to the router.
        case passing
        /// A request answered here: its route, its announced length and its body so far (nil:
        /// none yet). A body that arrives in one piece is kept as the decoder handed it on,
        /// uncopied; one in several is gathered into a buffer of the announced length.
        case collecting(ByteBuffer?, length: Int, start: ContinuousClock.Instant, route: Route)
    }

    private let routes: LocusRoutes
    private let maxBytes: Int
    private var state = State.idle
    /// Requests handed to the router whose answer has not been written whole yet.
    private var routedInFlight = 0
    /// Whether the client presented a certificate (asked once; it is fixed for the connection).
    private var hasClientCertificate: Bool?
    private var date = HTTPDate()
    /// The metrics series this connection's answers were recorded in, by route and status code
    /// (a handful at most), so recording one takes no lock.
    private var series: [(route: Route, code: Int, series: LocusMetrics.RequestSeries)] = []

    init(routes: LocusRoutes, maxBytes: Int) {
        self.routes = routes
        self.maxBytes = maxBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if routedInFlight == 0, let (length, route) = answerable(head, context: context) {
                state = .collecting(nil, length: length, start: .now, route: route)
                return
            }
            routedInFlight += 1
            state = .passing
            context.fireChannelRead(data)
        case .body(var chunk):
            guard case .collecting(let sofar, let length, let start, let route) = state else { return context.fireChannelRead(data) }
            state = .idle  // drop the reference while appending, so the buffer is not copied
            guard var body = sofar else {
                state = .collecting(chunk, length: length, start: start, route: route)
                return
            }
            if body.capacity < length {  // the first piece as the decoder handed it on: gather from here
                var gathered = context.channel.allocator.buffer(capacity: length)
                gathered.writeBuffer(&body)
                body = gathered
            }
            body.writeBuffer(&chunk)
            state = .collecting(body, length: length, start: start, route: route)
        case .end:
            guard case .collecting(let body, _, let start, let route) = state else {
                state = .idle
                return context.fireChannelRead(data)
            }
            state = .idle
            answer(body ?? ByteBuffer(), route: route, start: start, context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // (Also ends answers to requests the router never saw, such as a 400 for an unparsable head.)
        if case .end = unwrapOutboundIn(data) { routedInFlight = max(0, routedInFlight - 1) }
        context.write(data, promise: promise)
    }

    /// The body's announced length and the route when this request is answered here; nil to
    /// route it.
    private func answerable(_ head: HTTPRequestHead, context: ChannelHandlerContext) -> (Int, Route)? {
        guard head.method == .POST, head.version == .http1_1, let route = LocusRoutes.decidingRoute(head.uri),
            let length = Self.answerableBodyLength(head.headers), length <= min(maxBytes, routes.bodyLimit(route)),
            context.channel.isWritable
        else { return nil }
        if routes.requireClientCertificate {
            if hasClientCertificate == nil {
                hasClientCertificate = ((try? context.pipeline.syncOperations.nioSSL_peerCertificate()) ?? nil) != nil
            }
            guard hasClientCertificate == true else { return nil }
        }
        return (length, route)
    }

    /// The `Content-Length` of a JSON body sent without `Expect` or `Connection: close`; nil
    /// otherwise (also for a repeated `Content-Type` or `Content-Length`, which the router
    /// judges). One pass over the fields: a lookup by name would build the fields' index first.
    static func answerableBodyLength(_ headers: HTTPHeaders) -> Int? {
        var type: String?
        var length: String?
        for (name, value) in headers {
            if name.utf8.count == 12, isName(name, "content-type") {
                guard type == nil else { return nil }
                type = value
            } else if name.utf8.count == 14, isName(name, "content-length") {
                guard length == nil else { return nil }
                length = value
            } else if name.utf8.count == 6, isName(name, "expect") {
                return nil
            } else if name.utf8.count == 10, isName(name, "connection"), value.lowercased() == "close" {
                return nil
            }
        }
        guard let type, LocusRoutes.isJSON(type), let length else { return nil }
        return Int(length)
    }

    /// Whether the field name `name` is `lowercase` (ASCII, in any case).
    private static func isName(_ name: String, _ lowercase: StaticString) -> Bool {
        var it = name.utf8.makeIterator()
        for i in 0..<lowercase.utf8CodeUnitCount {
            guard let c = it.next() else { return false }
            guard c | 0x20 == lowercase.utf8Start[i] else { return false }
        }
        return it.next() == nil
    }

    /// Whether this connection's answers wait for the flush `flushAfterThisTurn` scheduled.
    private var flushScheduled = false

    /// Flushes once the event loop has read (and answered) every connection that was ready:
    /// the answers of one turn of the loop are decided one after another, while the decision's
    /// code and data are still in the caches, and then encrypted and written together, instead of
    /// each decision meeting caches that the previous answer's TLS and socket write went through.
    private func flushAfterThisTurn(_ context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            guard self.flushScheduled else { return }  // flushed as the handler was removed
            self.flushScheduled = false
            context.flush()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if flushScheduled {
            flushScheduled = false
            context.flush()
        }
    }

    private func answer(_ body: ByteBuffer, route: Route, start: ContinuousClock.Instant, context: ChannelHandlerContext) {
        let (status, buffers) = routes.answer(route, body: body)
        let length = buffers.reduce(0) { $0 + $1.readableBytes }
        let headers: HTTPHeaders = ["Content-Type": "application/json", "Content-Length": String(length), "Date": date.now()]
        let head = HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: status.code, reasonPhrase: status.reasonPhrase), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        for buffer in buffers { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: nil)
        flushAfterThisTurn(context)
        let duration = ContinuousClock.now - start
        if let known = series.first(where: { $0.route == route && $0.code == status.code }) {
            known.series.record(duration: duration)
        } else {
            let made = routes.metrics.requestSeries(route: route.label, code: status.code)
            series.append((route, status.code, made))
            made.record(duration: duration)
        }
    }
}
