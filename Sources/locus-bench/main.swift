import CoreFoundation  // timespec's fields (clock_gettime)
// locus-bench: Locus's own load generator and fixture maker for the benchmarks (scripts/bench-webhook).
//
//   locus-bench rate --port P --body FILE [--path /mutate] [--rate 5000] [--connections 16] [--seconds 20]
//                    [--ca CA.pem] [--reconnect-every N]
//       Open-loop load at a fixed request rate over TLS with keep-alive. Latency is measured from
//       the moment each request was due, so a slow server cannot hide its queueing (no coordinated
//       omission). Every answer must be 200 and a well-formed answer of its route (parsed whole).
//       `--ca` verifies the server against those roots; `--reconnect-every` opens a new connection
//       (a new handshake) after N requests. Prints achieved rate, p50/p90/p99/p99.9/max, failures.
//   locus-bench state --pvcs N --datasets M [--daemonsets D]
//       Prints a cluster-state file with N dataset PVCs (and their PVs) over M datasets, and D of
//       their runtimes' FUSE DaemonSets (default M).
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

func argument(_ name: String, _ args: [String]) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("locus-bench: \(message)\n".utf8))
    exit(2)
}

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

func state(_ args: [String]) {
    let pvcs = argument("--pvcs", args).flatMap(Int.init) ?? 10_000
    let datasets = argument("--datasets", args).flatMap(Int.init) ?? 1_000
    let daemonSets = argument("--daemonsets", args).flatMap(Int.init) ?? datasets
    var out = "datasets:\n"
    for d in 0..<datasets {
        out += "  - metadata: {name: ds-\(d), namespace: ns-\(d % 50), uid: uid-\(d)}\n"
        out += "    spec: {mounts: [{mountPoint: \"s3://bucket/ds-\(d)/\", name: ds-\(d)}]}\n"
        out +=
            "    status: {phase: Bound, runtimes: [{name: ds-\(d), namespace: ns-\(d % 50), type: alluxio}], cacheStates: {cached: "
            + "\"10.00GiB\", cacheCapacity: \"20.00GiB\"}}\n"
    }
    out += "runtimes:\n"
    for d in 0..<datasets {
        out +=
            "  - {kind: AlluxioRuntime, metadata: {name: ds-\(d), namespace: ns-\(d % 50)}, spec: {replicas: 2, fuse: {image: "
            + "fluidcloudnative/alluxio-fuse, imageTag: \"2.9.0\"}}}\n"
    }
    out += "persistentVolumeClaims:\n"
    for p in 0..<pvcs {
        let d = p % datasets
        out +=
            "  - metadata: {name: pvc-\(p), namespace: ns-\(d % 50), labels: {fluid.io/s-ns-\(d % 50)-ds-\(d): \"true\", "
            + "fluid.io/dataset-id: ns-\(d % 50)-ds-\(d)}, annotations: {CreatedBy: fluid}}\n"
        out += "    spec: {volumeName: ns-\(d % 50)-pvc-\(p), storageClassName: fluid, accessModes: [ReadOnlyMany]}\n"
        out += "    status: {phase: Bound}\n"
    }
    out += "persistentVolumes:\n"
    for p in 0..<pvcs {
        let d = p % datasets
        out += "  - metadata: {name: ns-\(d % 50)-pvc-\(p)}\n"
        out +=
            "    spec: {csi: {driver: fuse.csi.fluid.io, volumeHandle: ns-\(d % 50)-pvc-\(p), volumeAttributes: {fluid_path: "
            + "/runtime-mnt/alluxio/ns-\(d % 50)/ds-\(d)/alluxio-fuse, mount_type: fuse.alluxio-fuse}}}\n"
    }
    out += "namespaces:\n"
    for n in 0..<50 { out += "  - metadata: {name: ns-\(n)}\n" }
    // Each runtime's FUSE DaemonSet, shaped as Fluid's alluxio chart renders it.
    out += "daemonSets:\n"
    for d in 0..<daemonSets {
        let ns = "ns-\(d % 50)"
        let root = "/runtime-mnt/alluxio/ns-\(d % 50)/ds-\(d)"
        out +=
            "  - metadata: {name: ds-\(d)-fuse, namespace: \(ns), labels: {app: alluxio, release: ds-\(d), role: alluxio-fuse, "
            + "fluid.io/managed-by: fluid, fluid.io/dataset-id: \(ns)-ds-\(d)}}\n"
        out +=
            "    spec: {template: {spec: {hostNetwork: true, containers: [{name: alluxio-fuse, image: "
            + "fluidcloudnative/alluxio-fuse:2.9.0, command: [/entrypoint.sh], args: [fuse, \"--fuse-opts=kernel_cache,ro\", "
            + "\(root)/alluxio-fuse, /], "
        out +=
            "env: [{name: ALLUXIO_CLIENT_HOSTNAME, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}], envFrom: [{configMapRef: {name: "
            + "ds-\(d)-config}}], securityContext: {privileged: true, capabilities: {add: [SYS_ADMIN]}}, "
        out += "lifecycle: {preStop: {exec: {command: [/opt/alluxio/integration/fuse/bin/alluxio-fuse, unmount, \(root)/alluxio-fuse]}}}, "
        out +=
            "volumeMounts: [{name: alluxio-fuse-device, mountPath: /dev/fuse}, {name: alluxio-fuse-mount, mountPath: \(root), "
            + "mountPropagation: Bidirectional}, {name: mem, mountPath: /dev/shm}]}], "
        out +=
            "volumes: [{name: alluxio-fuse-device, hostPath: {path: /dev/fuse, type: CharDevice}}, {name: alluxio-fuse-mount, hostPath: "
            + "{path: \(root), type: DirectoryOrCreate}}, {name: mem, hostPath: {path: /dev/shm, type: Directory}}]}}}\n"
    }
    print(out, terminator: "")
}

/// In-process cost of each stage of a /mutate answer (no network): where the time goes.
func stages(_ args: [String]) throws {
    guard let bodyFile = argument("--body", args), let body = FileManager.default.contents(atPath: bodyFile) else {
        fail("--body FILE is required")
    }
    let n = argument("--iterations", args).flatMap(Int.init) ?? 20_000
    let cache = try ExampleState.clusterState().makeClusterCache()
    let policy = AdmissionPolicy()
    let bytes = Array(body)
    let only = argument("--only", args)
    func time(_ name: String, _ f: () throws -> Void) rethrows {
        if let only, !name.hasPrefix(only) { return }
        for _ in 0..<(n / 10) { try f() }
        let start = ContinuousClock.now
        for _ in 0..<n { try f() }
        let d = ContinuousClock.now - start
        let us = (Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12) / Double(n)
        print(String(format: "%-28@ %8.2f µs", name as NSString, us))
    }
    let request = try AdmissionRequest.parse(bytes)
    let result = Admission.review(request, catalog: cache, policy: policy)
    try time("parse AdmissionReview") { _ = try AdmissionRequest.parse(bytes) }
    try time("JSONDecoder (for scale)") { _ = try JSONDecoder().decode(JSONValue.self, from: body) }
    time("decide + mutate + diff") { _ = Admission.review(request, catalog: cache, policy: policy) }
    time("write response") { _ = result.response.review(apiVersion: request.apiVersion) }
    try time("whole answer") {
        let r = try AdmissionRequest.parse(bytes)
        _ = Admission.review(r, catalog: cache, policy: policy).response.review(apiVersion: r.apiVersion)
    }
    // The whole answer on several threads at once over the same caches: what sharing costs.
    let threads = argument("--threads", args).flatMap(Int.init) ?? 2
    if only == nil || only == "threads" {
        let start = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for _ in 0..<n {
                guard let r = try? AdmissionRequest.parse(bytes) else { return }
                _ = Admission.review(r, catalog: cache, policy: policy).response.review(apiVersion: r.apiVersion)
            }
        }
        let d = ContinuousClock.now - start
        let us = (Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12) / Double(n)
        print(String(format: "%-28@ %8.2f µs", "whole answer, \(threads) threads" as NSString, us))
    }
}

/// In-process cost of each stage of a /prioritize answer over a cluster state.
func extenderStages(_ args: [String]) throws {
    guard let bodyFile = argument("--body", args), let body = FileManager.default.contents(atPath: bodyFile),
        let statePath = argument("--state", args)
    else { fail("--body FILE and --state FILE are required") }
    let n = argument("--iterations", args).flatMap(Int.init) ?? 200
    let state = try ClusterStateFile.read(path: statePath)
    let cache = state.makeClusterCache()
    let entries = state.cacheEntries
    let index = LocalityIndex()
    LocalityFeeds(cache: cache, index: index, staticEntries: entries).refresh()
    let bytes = Array(body)
    func time(_ name: String, _ f: () throws -> Void) rethrows {
        let start = ContinuousClock.now
        for _ in 0..<n { try f() }
        let d = ContinuousClock.now - start
        print(
            String(
                format: "%-28@ %8.1f µs", name as NSString,
                (Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12) / Double(n)))
    }
    let parsed = try ExtenderArgs.parse(bytes)
    let plan = PodPlan.of(pod: parsed.pod, cache: cache)
    let verdicts = Extender.prioritize(plan, nodes: parsed.nodeNames, locality: index.snapshot(), config: ExtenderConfig(), detailed: false)
    try time("parse ExtenderArgs") { _ = try ExtenderArgs.parse(bytes) }
    time("plan") { _ = PodPlan.of(pod: parsed.pod, cache: cache) }
    time("score") {
        _ = Extender.scores(
            plan, nodes: parsed.nodeNames, locality: index.snapshot(), config: ExtenderConfig(), view: NodeView.cluster(cache))
    }
    time("encode") {
        var out: [UInt8] = []
        out.reserveCapacity(32 * verdicts.count + 2)
        writeHostPriorities(count: verdicts.count, host: { verdicts[$0].node }, score: { verdicts[$0].score }, into: &out)
    }
    // One round of a live cluster's locality refresh, off the request path: Fluid's status again
    // from the caches, then each engine source replaced with what its workers said (here the
    // cluster-state figures, relabelled: JuiceFS and Alluxio for FUSE datasets, Vineyard for IPC).
    let feeds = LocalityFeeds(cache: cache, index: index, staticEntries: entries)
    var engines: [LocalitySource: LocalityIndex.Picture] = [:]
    for (node, datasets) in index.picture(of: .clusterState) {
        for (ref, o) in datasets {
            let source: LocalitySource = o.sharedMemory ? .vineyard : (ref.name.hasSuffix("a") ? .alluxio : .juicefs)
            var e = o
            e.source = source
            engines[source, default: [:]][node, default: [:]][ref] = e
        }
    }
    time("refresh: Fluid status") { feeds.refresh() }
    time("  of which the picture") { _ = FluidStatusSource.picture(cache: cache, now: Date()) }
    time("refresh: one engine source") { index.replace(source: .juicefs, with: engines[.juicefs] ?? [:]) }
    let rounds = 20
    let cpu0 = processCPUSeconds()
    let wall0 = ContinuousClock.now
    for _ in 0..<rounds {
        feeds.refresh()
        for (source, picture) in engines { index.replace(source: source, with: picture) }
    }
    let wall = ContinuousClock.now - wall0
    print(
        String(
            format: "%-28@ %8.1f ms CPU, %.1f ms wall (Fluid status + %d engine sources, %d observations)",
            "one refresh round" as NSString, (processCPUSeconds() - cpu0) * 1000 / Double(rounds),
            (Double(wall.components.seconds) * 1e3 + Double(wall.components.attoseconds) / 1e15) / Double(rounds),
            engines.count,
            index.picture(of: .fluidStatus).values.map(\.count).reduce(0, +) + engines.values.flatMap(\.values).map(\.count).reduce(0, +)))
}

/// CPU time this process has used, user and system.
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// A cluster state for the extender benchmark: `nodes` nodes, 4 datasets (one Vineyard), each
/// cached on a quarter of the nodes; and the two request bodies.
func extenderFixtures(_ args: [String]) throws {
    let nodes = argument("--nodes", args).flatMap(Int.init) ?? 5000
    let fullNodes = argument("--full-nodes", args).flatMap(Int.init) ?? 1000
    guard let dir = argument("--out", args) else { fail("--out DIR is required") }
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let datasets = ["train-a", "train-b", "weights", "features"]
    var state = "datasets:\n"
    for (i, d) in datasets.enumerated() {
        let type = d == "features" ? "vineyard" : ["alluxio", "juicefs", "jindo"][i % 3]
        state +=
            "  - metadata: {name: \(d), namespace: ml}\n    status: {phase: Bound, runtimes: [{name: \(d), namespace: ml, type: "
            + "\(type)}]}\n"
    }
    state += "runtimes:\n"
    for (i, d) in datasets.enumerated() {
        let kind = d == "features" ? "VineyardRuntime" : ["AlluxioRuntime", "JuiceFSRuntime", "JindoRuntime"][i % 3]
        state += "  - {kind: \(kind), metadata: {name: \(d), namespace: ml}, spec: {fuse: {image: example/fuse}}}\n"
    }
    state += "nodes:\n"
    for n in 0..<nodes {
        var labels = "kubernetes.io/hostname: node-\(n)"
        for (i, d) in datasets.enumerated() where n % 4 == i || d == "features" { labels += ", fluid.io/s-ml-\(d): \"true\"" }
        state += "  - metadata: {name: node-\(n), labels: {\(labels)}}\n"
    }
    state += "cache:\n"
    for n in 0..<nodes {
        for (i, d) in datasets.enumerated() where n % 4 == i {
            state +=
                "  - {node: node-\(n), dataset: ml/\(d), memory: \(n % 7)Gi, ssd: "
                + "\(n % 13)Gi\(d == "features" ? ", sharedMemory: true" : "")}\n"
        }
    }
    try state.write(toFile: "\(dir)/state.yaml", atomically: true, encoding: .utf8)
    let pod: [String: Any] = [
        "apiVersion": "v1", "kind": "Pod",
        "metadata": ["name": "reader", "namespace": "ml", "annotations": ["locus.dev/datasets": datasets.joined(separator: ",")]],
        "spec": ["containers": [["name": "app", "image": "busybox"]]],
    ]
    let names: [String: Any] = ["Pod": pod, "Nodes": NSNull(), "NodeNames": (0..<nodes).map { "node-\($0)" }]
    try JSONSerialization.data(withJSONObject: names).write(to: URL(fileURLWithPath: "\(dir)/prioritize-names.json"))
    // Full Node objects of about 5 KB each (18 images, as on a busy node), as kube-scheduler sends them without nodeCacheCapable.
    let images = (0..<18).map { i in
        [
            "names": [
                "registry.example.com/team/image-\(i)@sha256:\(String(repeating: "ab", count: 32))",
                "registry.example.com/team/image-\(i):v1.\(i)",
            ], "sizeBytes": 100_000_000 + i,
        ] as [String: Any]
    }
    let items: [[String: Any]] = (0..<fullNodes).map { n in
        [
            "metadata": [
                "name": "node-\(n)", "uid": UUID().uuidString, "resourceVersion": "\(1000 + n)",
                "labels": [
                    "kubernetes.io/hostname": "node-\(n)", "topology.kubernetes.io/zone": "zone-\(n % 3)", "fluid.io/s-ml-features": "true",
                    "node.kubernetes.io/instance-type": "m5.4xlarge",
                ],
                "annotations": ["node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"],
            ],
            "spec": ["podCIDR": "10.\(n / 250).\(n % 250).0/24", "providerID": "aws:///zone/i-\(n)"],
            "status": [
                "capacity": ["cpu": "16", "memory": "65536Mi", "pods": "110", "ephemeral-storage": "100Gi"],
                "allocatable": ["cpu": "15800m", "memory": "63000Mi", "pods": "110", "ephemeral-storage": "95Gi"],
                "conditions": ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"].map {
                    [
                        "type": $0, "status": $0 == "Ready" ? "True" : "False", "lastHeartbeatTime": "2026-11-24T10:00:00Z",
                        "lastTransitionTime": "2026-11-20T10:00:00Z", "reason": "Kubelet\($0)", "message": "kubelet is posting status",
                    ]
                },
                "addresses": [
                    ["type": "InternalIP", "address": "10.0.\(n / 250).\(n % 250)"], ["type": "Hostname", "address": "node-\(n)"],
                ],
                "nodeInfo": [
                    "kubeletVersion": "v1.31.2", "osImage": "Debian GNU/Linux 12", "containerRuntimeVersion": "containerd://1.7.22",
                    "kernelVersion": "6.1.0", "architecture": "amd64", "operatingSystem": "linux",
                ],
                "images": images,
            ],
        ]
    }
    let full: [String: Any] = [
        "Pod": pod, "Nodes": ["kind": "NodeList", "apiVersion": "v1", "metadata": [:], "items": items], "NodeNames": NSNull(),
    ]
    try JSONSerialization.data(withJSONObject: full).write(to: URL(fileURLWithPath: "\(dir)/filter-full.json"))
}

let args = Array(CommandLine.arguments.dropFirst())
do {
    switch args.first {
    case "rate": try await rate(args)
    case "state": state(args)
    case "stages": try stages(args)
    case "extender-fixtures": try extenderFixtures(args)
    case "extender-stages": try extenderStages(args)
    default:
        fail(
            "usage: locus-bench rate --port P --body FILE [--path /mutate] [--rate R] [--connections C] [--seconds S] [--ca CA.pem] "
                + "[--reconnect-every N] [--check-every N] | locus-bench state --pvcs N --datasets M"
        )
    }
} catch {
    fail("\(error)")
}
