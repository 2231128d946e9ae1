import Foundation
import JSON
import KubeClient
import Locality
import Mutators
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SchedulerExtender
import WebhookServer

struct Stats {
    var latencies: [Double] = []  // microseconds
    var lastAnswer = NIODeadline.uptimeNanoseconds(0)
    var failures = 0
    var malformed = 0
    var connections = 0
    var firstProblems: [String] = []

    mutating func problem(_ p: String) { if firstProblems.count < 5 { firstProblems.append(p) } }

    /// Adds another connection's or client's figures to these.
    mutating func merge(_ other: Stats) {
        latencies += other.latencies
        failures += other.failures
        malformed += other.malformed
        connections += other.connections
        lastAnswer = max(lastAnswer, other.lastAnswer)
        for p in other.firstProblems { problem(p) }
    }
}

/// Whether `body` is a well-formed answer of `path`: an AdmissionReview with a uid and a verdict,
/// an ExtenderFilterResult, or a HostPriorityList with scores in 0...10.
func wellFormed(path: String, _ body: ByteBuffer) -> Bool {
    guard let v = try? body.withUnsafeReadableBytes({ try JSONValue.parse(bytes: $0) }) else { return false }
    switch path {
    case "/mutate":
        guard v["kind"]?.stringValue == "AdmissionReview", v["apiVersion"]?.stringValue != nil,
            let r = v["response"], r["uid"]?.stringValue?.isEmpty == false, r["allowed"]?.boolValue != nil
        else { return false }
        if let patch = r["patch"]?.stringValue {
            guard r["patchType"]?.stringValue == "JSONPatch", let raw = Data(base64Encoded: patch),
                (try? JSONValue.parse(raw))?.arrayValue != nil
            else { return false }
        }
        return true
    case "/filter":
        return v["Error"]?.stringValue != nil && (v["NodeNames"]?.arrayValue != nil || v["Nodes"]?["items"]?.arrayValue != nil)
    case "/prioritize":
        guard let list = v.arrayValue else { return false }
        return list.allSatisfy { e in
            guard e["Host"]?.stringValue != nil, case .integer(let score)? = e["Score"] else { return false }
            return (0...10).contains(score)
        }
    default:
        return true
    }
}

/// The cheap check: an AdmissionReview answer names its uid (as wrk's script checks).
func looksLikeAnswer(path: String, _ body: ByteBuffer) -> Bool {
    guard path == "/mutate" else { return wellFormed(path: path, body) }
    return body.withUnsafeReadableBytes { raw in
        let needle = Array(#""uid":""#.utf8)
        guard raw.count >= needle.count else { return false }
        return (0...(raw.count - needle.count)).contains { i in (0..<needle.count).allSatisfy { raw[i + $0] == needle[$0] } }
    }
}

/// A whole HTTP response.
struct Answer: Sendable {
    var status: UInt
    var body: ByteBuffer
}

/// Gathers each response on the event loop and passes it on whole, so the measuring task wakes
/// once per answer rather than once per TLS record (a /prioritize answer over 5,000 nodes is ten
/// records, a /filter answer over full nodes hundreds): the client's own scheduling then adds
/// as little as it can to the latency it measures.
final class WholeResponse: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias InboundOut = Answer
    private var status: UInt = 0
    private var body = ByteBuffer()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status.code
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            context.fireChannelRead(wrapInboundOut(Answer(status: status, body: body)))
            body = ByteBuffer()
        }
    }
}

/// Sends one connection's share of the rate and measures each answer, entirely on the
/// connection's event loop: a request is written when it is due (a scheduled task when it is not
/// due yet), its latency runs from when it was due (so a server that falls behind is charged the
/// wait, not just the service time), and the next is due one interval later. No task wakes per
/// request: on two shared cores the load generator's own hops would otherwise count against the server.
///
/// Every answer is checked cheaply (`looksLikeAnswer`) and one in `checkEvery` whole
/// (`wellFormed`: parsed, patch decoded): a whole check costs about as much as the server's
/// answer, and would count against the server the same way. The soak test checks every answer
/// whole (`--check-every 1`).
final class PacedRequests: ChannelInboundHandler {
    typealias InboundIn = Answer
    typealias OutboundOut = HTTPClientRequestPart
    let path: String
    let headers: HTTPHeaders
    let body: ByteBuffer
    let interval: TimeAmount
    let end: NIODeadline
    let reconnectEvery: Int
    let checkEvery: Int
    let finished: EventLoopPromise<Void>
    var due: NIODeadline
    var stats = Stats()
    var sent = 0
    var waiting = false
    private var done = false

    /// Ends this connection's part (once).
    func finish() {
        if !done {
            done = true
            finished.succeed(())
        }
    }

    init(
        path: String, body: ByteBuffer, interval: TimeAmount, due: NIODeadline, end: NIODeadline, reconnectEvery: Int, checkEvery: Int,
        finished: EventLoopPromise<Void>
    ) {
        self.path = path
        self.body = body
        self.headers = HTTPHeaders([
            ("Host", "localhost"), ("Content-Type", "application/json"), ("Content-Length", String(body.readableBytes)),
        ])
        self.interval = interval
        self.due = due
        self.end = end
        self.reconnectEvery = reconnectEvery
        self.checkEvery = checkEvery
        self.finished = finished
        stats.latencies.reserveCapacity(100_000)
    }

    func channelActive(context: ChannelHandlerContext) {
        next(context)
        context.fireChannelActive()
    }

    /// Sends the next request now or when it is due; closes when the run (or this connection's share) is over.
    func next(_ context: ChannelHandlerContext) {
        guard due < end, reconnectEvery <= 0 || sent < reconnectEvery else {
            context.close(promise: nil)
            return
        }
        if due <= .now() { return send(context) }
        let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.assumeIsolated().scheduleTask(deadline: due) { self.send(ctx.value) }
    }

    func send(_ context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        sent += 1
        waiting = true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let answer = unwrapInboundIn(data)
        waiting = false
        let now = NIODeadline.now()
        stats.lastAnswer = now
        stats.latencies.append(Double((now - due).nanoseconds) / 1000)
        if answer.status != 200 {
            stats.failures += 1
            stats.problem("HTTP \(answer.status): \(String(buffer: answer.body).prefix(200))")
        } else if sent % checkEvery == 1 || checkEvery == 1
            ? !wellFormed(path: path, answer.body) : !looksLikeAnswer(path: path, answer.body)
        {
            stats.malformed += 1
            stats.problem("malformed: \(String(buffer: answer.body).prefix(200))")
        }
        due = due + interval
        next(context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        stats.problem("\(error)")
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if waiting {
            // The request in flight got no answer: count it, and go on with the next on a new connection.
            stats.failures += 1
            stats.problem("connection closed with a request in flight")
            due = due + interval
            waiting = false
        }
        finish()
        context.fireChannelInactive()
    }
}

/// One client's share of the rate over keep-alive TLS connections. A connection is replaced after
/// `reconnectEvery` requests (so new handshakes keep happening, e.g. across a certificate
/// rotation) and after any error; a request that gets no answer counts as failed.
func runClient(
    port: Int, path: String, body: [UInt8], interval: TimeAmount, start: NIODeadline, end: NIODeadline,
    offset: TimeAmount, context: NIOSSLContext, reconnectEvery: Int, checkEvery: Int
) async -> Stats {
    var stats = Stats()
    stats.latencies.reserveCapacity(100_000)
    let buffer = ByteBuffer(bytes: body)
    var due = start + offset
    while due < end {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let finished = loop.makePromise(of: Void.self)
        let firstDue = due
        let paced = try! await loop.submit {
            NIOLoopBound(
                PacedRequests(
                    path: path, body: buffer, interval: interval, due: firstDue, end: end, reconnectEvery: reconnectEvery,
                    checkEvery: checkEvery, finished: finished),
                eventLoop: loop)
        }.get()
        do {
            _ = try await ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(WholeResponse())
                        try channel.pipeline.syncOperations.addHandler(paced.value)
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            stats.connections += 1
            try await finished.futureResult.get()
        } catch {
            // The connection attempt failed: count it, then go on with a new connection.
            stats.failures += 1
            stats.problem("\(error)")
            due = due + interval
            try? await loop.submit { paced.value.finish() }.get()
            continue
        }
        let (part, next) = try! await loop.submit { (paced.value.stats, paced.value.due) }.get()
        stats.merge(part)
        due = next
    }
    return stats
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

func rate(_ args: [String]) async throws {
    guard let port = argument("--port", args).flatMap(Int.init) else { fail("--port is required") }
    guard let bodyFile = argument("--body", args), let body = FileManager.default.contents(atPath: bodyFile) else {
        fail("--body FILE is required and must be readable")
    }
    let path = argument("--path", args) ?? "/mutate"
    let rate = argument("--rate", args).flatMap(Double.init) ?? 5000
    let connections = argument("--connections", args).flatMap(Int.init) ?? 16
    let seconds = argument("--seconds", args).flatMap(Double.init) ?? 20
    let reconnectEvery = argument("--reconnect-every", args).flatMap(Int.init) ?? 0
    let checkEvery = max(1, argument("--check-every", args).flatMap(Int.init) ?? 8)
    var tls = TLSConfiguration.makeClientConfiguration()
    if let ca = argument("--ca", args) {
        // Verify the server (chain and the name localhost) against these roots.
        tls.trustRoots = .file(ca)
    } else {
        tls.certificateVerification = .none  // loopback benchmark; the tests check verification
    }
    let context = try NIOSSLContext(configuration: tls)
    let perConnection = rate / Double(connections)
    let interval = TimeAmount.nanoseconds(Int64(1e9 / perConnection))
    let start = NIODeadline.now() + .milliseconds(300)
    let end = start + .milliseconds(Int64(seconds * 1000))
    let all = await withTaskGroup(of: Stats.self) { group in
        for i in 0..<connections {
            let offset = TimeAmount.nanoseconds(Int64(1e9 / perConnection * Double(i) / Double(connections)))
            group.addTask {
                await runClient(
                    port: port, path: path, body: Array(body), interval: interval, start: start, end: end, offset: offset,
                    context: context, reconnectEvery: reconnectEvery, checkEvery: checkEvery)
            }
        }
        var total = Stats()
        total.lastAnswer = start
        for await s in group { total.merge(s) }
        return total
    }
    let sorted = all.latencies.sorted()
    let ms = { (v: Double) in String(format: "%.2f ms", v / 1000) }
    // Achieved: answers over the time from the first due request to the last answer (a server
    // that falls behind takes longer than the nominal duration).
    let tookSeconds = max(seconds, Double((all.lastAnswer - start).nanoseconds) / 1e9)
    print(
        "\(path): target \(Int(rate)) req/s over \(connections) connections for \(seconds) s: \(sorted.count) answers in "
            + "\(String(format: "%.1f", tookSeconds)) s, achieved \(Int(Double(sorted.count) / tookSeconds)) req/s, \(all.connections) "
            + "TLS connections"
    )
    print(
        "latency p50 \(ms(percentile(sorted, 0.5)))  p90 \(ms(percentile(sorted, 0.9)))  p99 \(ms(percentile(sorted, 0.99)))  p99.9 "
            + "\(ms(percentile(sorted, 0.999)))  max \(ms(sorted.last ?? 0))"
    )
    print("failed \(all.failures)  malformed \(all.malformed)")
    for p in all.firstProblems { print("  problem: \(p)") }
    if all.failures > 0 || all.malformed > 0 { exit(1) }
}
