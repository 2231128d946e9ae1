import AsyncHTTPClient
import Foundation
import HTTPTypes
import JSON
import KubeClient
import Locality
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import TestSupport
import Testing

@testable import WebhookServer

/// Counts the flushes that reach the socket's side of the pipeline.
final class FlushCounter: ChannelOutboundHandler {
    typealias OutboundIn = HTTPServerResponsePart
    var flushes = 0
    func flush(context: ChannelHandlerContext) {
        flushes += 1
        context.flush()
    }
}

/// Records what `AnswerOnEventLoop` hands on towards the router.
final class RouterStandIn: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    var parts: [HTTPServerRequestPart] = []
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { parts.append(unwrapInboundIn(data)) }
}

@Suite("/mutate answered on the event loop")
struct EventLoopMutateTests {
    static let review = ExampleState.requests.first { $0.route == "/mutate" }!.body

    static func routes(requireClientCertificate: Bool = false) throws -> LocusRoutes {
        let cache = try ExampleState.clusterState().makeClusterCache()
        return LocusRoutes(
            backend: .fixed(cache), metrics: LocusMetrics(), certificates: nil, maxRequestBytes: 3 << 20,
            requireClientCertificate: requireClientCertificate)
    }

    /// A channel with the handler in front of a stand-in for the router.
    static func channel(_ routes: LocusRoutes, maxBytes: Int = 128 << 10) throws -> (EmbeddedChannel, RouterStandIn) {
        let router = RouterStandIn()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(AnswerOnEventLoop(routes: routes, maxBytes: maxBytes))
        try channel.pipeline.syncOperations.addHandler(router)
        return (channel, router)
    }

    /// A request head as NIO's HTTP/1 decoder hands it on (field names in the case clients send).
    static func head(
        _ method: HTTPMethod = .POST, _ path: String = "/mutate", type: String? = "application/json",
        length: Int? = review.utf8.count, extra: [(String, String)] = [], version: HTTPVersion = .http1_1
    ) -> HTTPServerRequestPart {
        var headers = HTTPHeaders([("Host", "localhost")] + extra)
        if let type { headers.add(name: "Content-Type", value: type) }
        if let length { headers.add(name: "Content-Length", value: String(length)) }
        return .head(HTTPRequestHead(version: version, method: method, uri: path, headers: headers))
    }

    /// Sends one request; returns the answer written here (nil when it went to the router).
    static func send(
        _ channel: EmbeddedChannel, _ head: HTTPServerRequestPart, body: String = review, pieces: Int = 2
    ) throws -> (HTTPResponseHead, String)? {
        try channel.writeInbound(head)
        // In pieces, as TLS records may cut it.
        let bytes = Array(body.utf8)
        for i in 0..<pieces {
            let piece = bytes[(bytes.count * i / pieces)..<(bytes.count * (i + 1) / pieces)]
            try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(bytes: piece)))
        }
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        // An answer written here is flushed when the event loop's turn ends.
        guard try channel.readOutbound(as: HTTPServerResponsePart.self) == nil else { throw TestFailure("flushed during the turn") }
        channel.embeddedEventLoop.run()
        guard let first = try channel.readOutbound(as: HTTPServerResponsePart.self) else { return nil }
        guard case .head(let response) = first, case .body(.byteBuffer(let answer)) = try channel.readOutbound(as: HTTPServerResponsePart.self),
            case .end = try channel.readOutbound(as: HTTPServerResponsePart.self)
        else { throw TestFailure("not head, body, end") }
        return (response, String(buffer: answer))
    }

    @Test func aReviewIsAnsweredHereWithTheRoutersAnswer() throws {
        let routes = try Self.routes()
        let (channel, router) = try Self.channel(routes)
        for (path, extra) in [("/mutate", []), ("/mutate?timeout=10s", []), ("/mutate", [("Connection", "keep-alive")])] {
            let (response, body) = try #require(try Self.send(channel, Self.head(.POST, path, extra: extra)))
            #expect(router.parts.isEmpty, "nothing reached the router")
            #expect(response.status == .ok && response.version == .http1_1)
            #expect(response.headers["Content-Type"] == ["application/json"])
            #expect(response.headers["Content-Length"] == [String(body.utf8.count)])
            #expect(response.headers.first(name: "Date")?.hasSuffix(" GMT") == true)
            // The very answer the routed /mutate gives.
            let (status, routed) = routes.answerMutate(ByteBuffer(string: Self.review))
            #expect(status == .ok)
            #expect(body == String(decoding: routed, as: UTF8.self))
            #expect(body.contains(#""uid":"0e3c6b8a-example-0001""#) && body.contains(#""patchType":"JSONPatch""#))
        }
        // A body that is not a review: 400 with the reason, here too.
        let (bad, reason) = try #require(try Self.send(channel, Self.head(length: 2), body: "{}"))
        #expect(bad.status == .badRequest)
        #expect(reason.contains("kind must be AdmissionReview"))
        let metrics = routes.metrics.render()
        #expect(String(decoding: metrics, as: UTF8.self).contains(#"locus_http_requests_total{route="mutate",code="200"} 3"#))
        #expect(String(decoding: metrics, as: UTF8.self).contains(#"locus_http_requests_total{route="mutate",code="400"} 1"#))
    }

    /// The body in one piece (kept as handed on) or in several (gathered): the same answer.
    @Test func aBodyInOnePieceOrInManyGetsTheSameAnswer() throws {
        let (channel, router) = try Self.channel(try Self.routes())
        var answers: [String] = []
        for pieces in [1, 2, 3, 7] {
            let (response, body) = try #require(try Self.send(channel, Self.head(), pieces: pieces))
            #expect(response.status == .ok)
            answers.append(body)
        }
        #expect(Set(answers).count == 1)
        #expect(answers[0].contains(#""patchType":"JSONPatch""#))
        #expect(router.parts.isEmpty)
    }

    /// Field names in any case: HTTP/1 field names are case-insensitive.
    @Test func fieldNamesInAnyCase() throws {
        let (channel, router) = try Self.channel(try Self.routes())
        let n = String(Self.review.utf8.count)
        for extra in [[("content-type", "application/json"), ("content-length", n)], [("CONTENT-TYPE", "Application/JSON"), ("Content-length", n)]] {
            let (response, _) = try #require(try Self.send(channel, Self.head(type: nil, length: nil, extra: extra)), "\(extra)")
            #expect(response.status == .ok)
        }
        #expect(router.parts.isEmpty)
    }

    /// A graceful shutdown that comes while a review's body is still arriving: NIO's pipelining
    /// handler, in front of this one in the server's pipeline, holds it until the answer is
    /// written, then closes the connection.
    @Test func aShutdownDuringAReviewClosesTheConnectionOnceItIsAnswered() throws {
        let routes = try Self.routes()
        let channel = EmbeddedChannel()
        let router = RouterStandIn()
        try channel.pipeline.syncOperations.addHandler(HTTPServerPipelineHandler())
        try channel.pipeline.syncOperations.addHandler(AnswerOnEventLoop(routes: routes, maxBytes: 128 << 10))
        try channel.pipeline.syncOperations.addHandler(router)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let bytes = Array(Self.review.utf8)
        try channel.writeInbound(Self.head())
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(bytes: bytes[..<100])))
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(channel.isActive, "the review being read is answered first")
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(bytes: bytes[100...])))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        channel.embeddedEventLoop.run()
        guard case .head(let response) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            throw TestFailure("no answer")
        }
        #expect(response.status == .ok)
        #expect(!channel.isActive, "closed once answered")
        #expect(router.parts.isEmpty)
    }

    /// `/filter` and `/prioritize` bodies small enough are answered here too, with the routes' answers.
    @Test func extenderRequestsAreAnsweredHereWithTheRoutersAnswers() throws {
        let routes = try Self.routes()
        let (channel, router) = try Self.channel(routes)
        let args: JSONValue = ["Pod": makePod(claims: ["llama-weights"]), "NodeNames": ["node-a", "node-b", "node-c"], "Nodes": nil]
        let body = String(decoding: try args.encoded(), as: UTF8.self)
        for path in ["/filter", "/prioritize"] {
            let (response, answer) = try #require(try Self.send(channel, Self.head(.POST, path, length: body.utf8.count), body: body))
            #expect(router.parts.isEmpty, "nothing reached the router")
            #expect(response.status == .ok && response.headers["Content-Length"] == [String(answer.utf8.count)])
            let routed =
                path == "/filter"
                ? routes.answerFilter(ByteBuffer(string: body)).1.map { String(buffer: $0) }.joined()
                : String(buffer: routes.answerPrioritize(ByteBuffer(string: body)).1)
            #expect(answer == routed, "\(path)")
            #expect(answer.contains("node-b"))
        }
        let metrics = String(decoding: routes.metrics.render(), as: UTF8.self)
        #expect(metrics.contains(#"locus_http_requests_total{route="filter",code="200"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"locus_http_requests_total{route="prioritize",code="200"} 1"#))
    }

    @Test(arguments: [
        ("another route", head(.POST, "/readyz")),
        ("a GET", head(.GET, "/mutate", type: nil, length: nil)),
        ("a path that only starts like /mutate", head(.POST, "/mutates")),
        ("an absolute URI (the router takes its path)", head(.POST, "https://localhost/mutate")),
        ("HTTP/1.0", head(version: .http1_0)),
        ("a content type that is not JSON (the router answers 415)", head(type: "text/plain")),
        ("no Content-Length (chunked: the router applies the limit as it reads)", head(length: nil)),
        ("a body over the event-loop size", head(length: 200 << 10)),
        ("Connection: close", head(extra: [("Connection", "close")])),
        ("CONNECTION: Close", head(extra: [("CONNECTION", "Close")])),
        ("a second Connection field saying close", head(extra: [("Connection", "keep-alive"), ("connection", "close")])),
        (
            "Content-Length twice",
            head(length: nil, extra: [("Content-Length", String(review.utf8.count)), ("content-length", String(review.utf8.count))])
        ),
        ("Content-Type twice", head(type: nil, extra: [("Content-Type", "text/plain"), ("content-type", "application/json")])),
        ("Expect: 100-continue", head(extra: [("Expect", "100-continue")])),
        ("EXPECT: 100-continue", head(extra: [("EXPECT", "100-continue")])),
    ])
    func otherRequestsGoToTheRouter(_ what: String, _ head: HTTPServerRequestPart) throws {
        let (channel, router) = try Self.channel(try Self.routes())
        #expect(try Self.send(channel, head) == nil, "\(what)")
        #expect(router.parts.count == 4, "head, two body parts and end reach the router: \(what)")
        if case .head = router.parts.first {} else { Issue.record("the head first: \(what)") }
        if case .end = router.parts.last {} else { Issue.record("the end last: \(what)") }
    }

    @Test func withoutAClientCertificateTheRouterRefuses() throws {
        // Required, and this connection has none: the router's middleware answers 401.
        let (channel, router) = try Self.channel(try Self.routes(requireClientCertificate: true))
        #expect(try Self.send(channel, Self.head()) == nil)
        #expect(router.parts.count == 4)
    }

    /// The answers of one turn of the event loop (here, two reviews that arrived together) are
    /// written as they are decided and flushed once, when the turn ends.
    @Test func theAnswersOfOneTurnAreFlushedTogether() throws {
        let counter = FlushCounter()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(AnswerOnEventLoop(routes: try Self.routes(), maxBytes: 128 << 10))
        try channel.pipeline.syncOperations.addHandler(RouterStandIn())
        for _ in 0..<2 {
            try channel.writeInbound(Self.head())
            try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: Self.review)))
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
        }
        #expect(counter.flushes == 0)
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
        channel.embeddedEventLoop.run()
        #expect(counter.flushes == 1)
        var ends = 0
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
            if case .end = part { ends += 1 }
        }
        #expect(ends == 2, "both answered")
    }

    /// Answers leave in request order: while the router still owes an answer on this
    /// connection, a review goes to the router too; once it answered, reviews are answered here again.
    @Test func answersStayInRequestOrder() throws {
        let (channel, router) = try Self.channel(try Self.routes())
        try channel.writeInbound(Self.head(.GET, "/metrics", type: nil, length: nil))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(router.parts.count == 2)
        #expect(try Self.send(channel, Self.head()) == nil, "the router owes the /metrics answer")
        #expect(router.parts.count == 6)
        // The router answers both.
        for _ in 0..<2 {
            try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        }
        for _ in 0..<4 { _ = try channel.readOutbound(as: HTTPServerResponsePart.self) }
        #expect(try Self.send(channel, Self.head()) != nil, "answered here again")
        #expect(router.parts.count == 6)
    }

    /// Over real TLS: the answer on the event loop and the routed answer (event-loop path off)
    /// are the same bytes, for every example review and a malformed one, and the connection
    /// stays open across them.
    @Test func sameAnswerOverTLSWithAndWithoutTheEventLoopPath() async throws {
        let cache = try ExampleState.clusterState().makeClusterCache()
        let fast = try await RunningLocus.start(backend: .fixed(cache))
        let routed = try await RunningLocus.start(backend: .fixed(cache)) { $0.eventLoopReviewBytes = 0 }
        var answers: [[String]] = []
        for locus in [fast, routed] {
            let client = try makeClient(caPEM: locus.certs.caCertificatePEM)
            var got: [String] = []
            for body in [Self.review, "{\"kind\":\"AdmissionReview\"}", Self.review] {
                var post = HTTPClientRequest(url: "\(locus.url)/mutate?timeout=10s")
                post.method = .POST
                post.headers.add(name: "Content-Type", value: "application/json")
                post.body = .bytes(ByteBuffer(string: body))
                let r = try await client.execute(post, timeout: .seconds(5))
                #expect(r.headers.first(name: "Date") != nil)
                got.append(
                    "\(r.status.code) \(r.headers.first(name: "Content-Type") ?? "") "
                        + "\(String(buffer: try await r.body.collect(upTo: 1 << 20)))"
                )
            }
            answers.append(got)
            try await client.shutdown()
            await locus.stop()
        }
        #expect(answers[0] == answers[1])
        #expect(answers[0][0].hasPrefix("200 application/json {\"apiVersion\":\"admission.k8s.io/v1\""))
        #expect(answers[0][1].hasPrefix("400 application/json {\"error\":"))
    }
}
