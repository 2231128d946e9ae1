import Foundation
import JSON
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// `locus-bench schedule --port P --pods N --nodes-file F [--warmup W] [--datasets 200] [--dataset-namespaces 5] [--ca CA.pem]`
///
/// The extender's cost per scheduled pod at kube-scheduler's call pattern: for each pod, one
/// `/filter` with every candidate's name (`nodeCacheCapable: true`), then one `/prioritize` with
/// the names the filter passed; pods one after another over one keep-alive TLS connection. The
/// pods are those of the production-shaped cluster (`ProductionCluster.pod`: one or two dataset
/// claims each, datasets in turn). Each round trip is timed on the connection's event loop, from
/// writing the request to reading the whole answer; building the bodies and reading the filter's
/// answer are not counted. Prints mean, p50, p99 and max per pod (filter + prioritize), and each
/// verb's mean.
func schedule(_ args: [String]) async throws {
    guard let port = argument("--port", args).flatMap(Int.init) else { fail("--port is required") }
    guard let namesFile = argument("--nodes-file", args), let namesData = FileManager.default.contents(atPath: namesFile),
        let names = try? JSONValue.parse(namesData).arrayValue?.compactMap(\.stringValue)
    else { fail("--nodes-file FILE (a JSON array of node names) is required") }
    let pods = argument("--pods", args).flatMap(Int.init) ?? 1000
    let warmup = argument("--warmup", args).flatMap(Int.init) ?? 20
    var shape = ProductionShape(nodes: names.count)
    if let d = argument("--datasets", args).flatMap(Int.init) { shape.datasets = d }
    if let d = argument("--dataset-namespaces", args).flatMap(Int.init) { shape.datasetNamespaces = d }
    let connection = try await ExtenderConnection.open(port: port, ca: argument("--ca", args))
    var times = ScheduleTimes()
    let allNames = JSONValue.array(names.map { .string($0) }).encodedBytes()
    for i in 0..<(warmup + pods) {
        let pod = ProductionCluster.pod(i, datasets: ProductionCluster.podDatasets(i, shape), shape)
        let (filterAnswer, filterMs) = try await connection.call("/filter", extenderArgs(pod: pod, names: allNames))
        // kube-scheduler asks for scores of the nodes the filters passed.
        let result = try filterAnswer.body.withUnsafeReadableBytes { try JSONValue.parse(bytes: $0) }
        let feasible = result["NodeNames"]?.arrayValue ?? []
        let feasibleNames = feasible.count == names.count ? allNames : JSONValue.array(feasible).encodedBytes()
        let (prioritizeAnswer, prioritizeMs) = try await connection.call("/prioritize", extenderArgs(pod: pod, names: feasibleNames))
        guard i >= warmup else { continue }
        times.perPod.append(filterMs + prioritizeMs)
        times.filter.append(filterMs)
        times.prioritize.append(prioritizeMs)
        if i == warmup {
            let scores = try prioritizeAnswer.body.withUnsafeReadableBytes { try JSONValue.parse(bytes: $0) }.arrayValue ?? []
            times.passed = feasible.count
            times.scored = scores.filter { score($0) > 0 }.count
        }
        if feasible.isEmpty { times.failed += 1 }
    }
    try await connection.channel.close()
    times.report(pods: pods, warmup: warmup, names: names.count)
}

/// ExtenderArgs with `pod` and the node names already written as a JSON array.
func extenderArgs(pod: JSONValue, names: [UInt8]) -> [UInt8] {
    var out = Array(#"{"Pod":"#.utf8)
    pod.write(into: &out)
    out += Array(#","Nodes":null,"NodeNames":"#.utf8)
    out += names
    out.append(UInt8(ascii: "}"))
    return out
}

/// What `schedule` measured.
struct ScheduleTimes {
    var perPod: [Double] = []
    var filter: [Double] = []
    var prioritize: [Double] = []
    /// Of the first measured pod: nodes the filter passed, nodes scored above 0.
    var passed = 0
    var scored = 0
    /// Pods no node passed.
    var failed = 0

    func report(pods: Int, warmup: Int, names: Int) {
        let sorted = perPod.sorted()
        let mean = { (v: [Double]) in v.reduce(0, +) / Double(max(1, v.count)) }
        print(
            "schedule: \(pods) pods (after \(warmup) warm-up), \(names) names each, one keep-alive TLS connection; first pod: "
                + "\(passed) nodes passed the filter, \(scored) scored above 0")
        print(
            String(
                format:
                    "per pod (filter+prioritize): mean %.3f ms  p50 %.3f ms  p99 %.3f ms  max %.3f ms   (filter mean %.3f ms, prioritize mean %.3f ms)",
                mean(perPod), percentile(sorted, 0.5), percentile(sorted, 0.99), sorted.last ?? 0, mean(filter), mean(prioritize)))
        if failed > 0 { print("pods no node passed: \(failed)") }
    }
}

/// One keep-alive TLS connection to the extender, each round trip timed on its event loop.
struct ExtenderConnection {
    let loop: any EventLoop
    let trips: NIOLoopBound<RoundTrips>
    let channel: any Channel

    static func open(port: Int, ca: String?) async throws -> ExtenderConnection {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca { tls.trustRoots = .file(ca) } else { tls.certificateVerification = .none }
        let context = try NIOSSLContext(configuration: tls)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let trips = try await loop.submit { NIOLoopBound(RoundTrips(), eventLoop: loop) }.get()
        let channel = try await ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(WholeResponse())
                    try channel.pipeline.syncOperations.addHandler(trips.value)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return ExtenderConnection(loop: loop, trips: trips, channel: channel)
    }

    /// POSTs `body` to `path`; the answer and the milliseconds from writing to the whole answer.
    func call(_ path: String, _ body: [UInt8]) async throws -> (Answer, Double) {
        let buffer = ByteBuffer(bytes: body)
        let promise = loop.makePromise(of: (Answer, Int64).self)
        let trips = self.trips
        loop.execute { trips.value.send(path: path, body: buffer, promise: promise) }
        let (answer, ns) = try await promise.futureResult.get()
        guard answer.status == 200 else { fail("\(path): HTTP \(answer.status): \(String(buffer: answer.body).prefix(300))") }
        return (answer, Double(ns) / 1e6)
    }
}

/// A HostPriority's score (0 when it is not an integer).
func score(_ entry: JSONValue) -> Int64 {
    if case .integer(let s)? = entry["Score"] { return s }
    return 0
}

/// One request at a time on a connection: `send` writes it and notes the time; the whole answer
/// fulfils the promise with the time it took.
final class RoundTrips: ChannelInboundHandler {
    typealias InboundIn = Answer
    typealias OutboundOut = HTTPClientRequestPart
    private var context: ChannelHandlerContext?
    private var pending: (start: NIODeadline, promise: EventLoopPromise<(Answer, Int64)>)?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func send(path: String, body: ByteBuffer, promise: EventLoopPromise<(Answer, Int64)>) {
        guard let context, pending == nil else {
            promise.fail(ChannelError.ioOnClosedChannel)
            return
        }
        let headers = HTTPHeaders([
            ("Host", "localhost"), ("Content-Type", "application/json"), ("Content-Length", String(body.readableBytes)),
        ])
        pending = (.now(), promise)
        context.write(wrapOutboundOut(.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let answer = unwrapInboundIn(data)
        guard let p = pending else { return }
        pending = nil
        p.promise.succeed((answer, (NIODeadline.now() - p.start).nanoseconds))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        pending?.promise.fail(error)
        pending = nil
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.promise.fail(ChannelError.ioOnClosedChannel)
        pending = nil
        self.context = nil
        context.fireChannelInactive()
    }
}
