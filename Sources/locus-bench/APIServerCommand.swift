import Foundation
import JSON
import KubeClient
import KubeTestServer
import WebhookServer

/// `locus-bench api-server --nodes N --out DIR [--port P] [--volumes V] [--config-maps C] [--config-map-bytes B]
/// [--namespaces S] [--dashboards D] [--unanswering-workers]` (the defaults are the production shape:
/// 30,000 volumes, 18,000 ConfigMaps of 77 MB in all, 3,000 namespaces, 60 dashboards; with
/// `--unanswering-workers`, two JuiceFS worker pods per dataset whose metrics never answer, see
/// `UnansweringWorkers`)
///
/// Generates the production-shaped cluster (`ProductionCluster`), serves it over TLS on 127.0.0.1
/// as kube-apiserver does (paged lists, watches, metadata-only lists; `FakeAPIServer`), and writes
/// into DIR: `kubeconfig` (server, CA data, token), `node-names.json`, `prioritize.json` (a pod
/// mounting two dataset claims, with every node's name), `port`, and last `ready`. It serves until
/// killed. Its own paths, outside the API:
///   GET  /bench/served   bytes served per collection since the last mark, as a table;
///   GET  /bench/total    "<bytes> <requests>" since the last mark;
///   POST /bench/mark     sets the mark;
///   POST /bench/relist   sets the mark, forgets history (compaction) and ends every watch with
///                        an ERROR 410 event, so that every informer lists again.
func apiServer(_ args: [String]) async throws {
    guard let dir = argument("--out", args) else { fail("--out DIR is required") }
    let shape = productionShape(args)
    let port = argument("--port", args).flatMap(Int.init) ?? 0
    let token = "bench-token-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)

    let started = ContinuousClock.now
    var objects = ProductionCluster.generate(shape)
    let generated = ContinuousClock.now
    let server = try await FakeAPIServer.start(port: port)
    server.setRequiredToken(token)
    // Every collection Locus lists exists, empty or not; the other Fluid runtime kinds do not (404).
    for r in [
        Resource.nodes, .namespaces, .configMaps, .persistentVolumeClaims, .persistentVolumes, .daemonSets, .pods, .datasets,
        .fluidRuntime(.juicefs),
    ] {
        server.serve(r.path(), kind: r.kind)
    }
    for o in objects { server.apply(o.resource.path(), kind: o.resource.kind, o.object) }
    objects = []
    if args.contains("--unanswering-workers") {
        let pods = UnansweringWorkers.pods(
            shape, hangingPort: try UnansweringWorkers.hangingListener(), refusedPort: try UnansweringWorkers.refusedPort())
        for pod in pods { server.apply(Resource.pods.path(), kind: "Pod", pod) }
    }
    server.prepareListItems()
    let prepared = ContinuousClock.now

    server.control = benchControls(server)

    reportCluster(server, generated: generated - started, prepared: prepared - generated)

    try writeBenchFiles(dir: dir, shape: shape, server: server, token: token)
    say("port \(server.port)")
    while true { try await Task.sleep(for: .seconds(3600)) }
}

/// The shape of the production cluster the flags ask for (15,000 nodes by default).
func productionShape(_ args: [String]) -> ProductionShape {
    var shape = ProductionShape(nodes: argument("--nodes", args).flatMap(Int.init) ?? 15_000)
    if let v = argument("--volumes", args).flatMap(Int.init) { shape.volumes = v }
    if let v = argument("--config-maps", args).flatMap(Int.init) { shape.configMaps = v }
    if let v = argument("--config-map-bytes", args).flatMap(Int.init) { shape.configMapBytes = v }
    if let v = argument("--namespaces", args).flatMap(Int.init) { shape.namespaces = v }
    if let v = argument("--dashboards", args).flatMap(Int.init) { shape.dashboards = v }
    return shape
}

/// The benchmark's controls under `/bench/`: the bytes served since the last mark (per
/// collection, or in all), a mark, and a forced relist of every informer (compaction, then a
/// 410 on every watch).
func benchControls(_ server: FakeAPIServer) -> @Sendable (FakeAPIServer.Request) -> (status: Int, body: [UInt8])? {
    let marks = Marks()
    return { request in
        guard request.path.hasPrefix("/bench/") else { return nil }
        func mark() {
            let (bytes, requests) = (server.servedBytes, server.requests.count)
            marks.set((bytes, requests))
        }
        switch (request.method, request.path) {
        case ("GET", "/bench/served"):
            let since = marks.get()
            let now = server.servedBytes
            var lines: [String] = []
            var total = 0
            for (path, bytes) in now.sorted(by: { $0.key < $1.key }) {
                let d = bytes - (since.bytes[path] ?? 0)
                guard d > 0 else { continue }
                total += d
                lines.append(pad(path, 46) + String(format: " %12d B  %8.1f MB", d, Double(d) / 1e6))
            }
            lines.append(
                pad("total", 46)
                    + String(format: " %12d B  %8.1f MB  (%d requests)", total, Double(total) / 1e6, server.requests.count - since.requests)
            )
            return (200, Array((lines.joined(separator: "\n") + "\n").utf8))
        case ("GET", "/bench/total"):
            let since = marks.get()
            let total = server.servedBytes.reduce(0) { $0 + $1.value - (since.bytes[$1.key] ?? 0) }
            return (200, Array("\(total) \(server.requests.count - since.requests)\n".utf8))
        case ("POST", "/bench/mark"):
            mark()
            return (200, Array("marked\n".utf8))
        case ("POST", "/bench/relist"):
            mark()
            server.compact()
            server.sendErrorEvent(code: 410, reason: "Expired", message: "too old resource version: forced by the benchmark")
            return (200, Array("relisting\n".utf8))
        default:
            return (404, Array("unknown control \(request.method) \(request.path)\n".utf8))
        }
    }
}

/// What the cluster is: per collection, objects and their bytes as list items.
func reportCluster(_ server: FakeAPIServer, generated: Duration, prepared: Duration) {
    let sizes = server.listItemSizes()
    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
    say(
        String(
            format: "cluster generated in %.1f s, stored and written as list items in %.1f s", seconds(generated),
            seconds(prepared)))
    say(pad("collection", 46) + " objects    as served   metadata-only   avg bytes")
    for (path, s) in sizes.sorted(by: { $0.key < $1.key }) where s.count > 0 {
        say(
            pad(path, 46)
                + String(
                    format: " %7d %9.1f MB %12.1f MB %11d", s.count, Double(s.bytes) / 1e6, Double(s.metadataBytes) / 1e6,
                    s.bytes / max(1, s.count)))
    }
}

/// The files the benchmark reads: every node's name, a `/prioritize` body, a kubeconfig, the port.
func writeBenchFiles(dir: String, shape: ProductionShape, server: FakeAPIServer, token: String) throws {
    let names = (0..<shape.nodes).map(ProductionShape.nodeName)
    let namesJSON = JSONValue.array(names.map { .string($0) }).encodedBytes()
    try Data(namesJSON).write(to: URL(fileURLWithPath: "\(dir)/node-names.json"))
    let pod = ProductionCluster.pod(0, datasets: ProductionCluster.podDatasets(0, shape), shape)
    let body: JSONValue = ["Pod": pod, "Nodes": nil, "NodeNames": .array(names.map { .string($0) })]
    try Data(body.encodedBytes()).write(to: URL(fileURLWithPath: "\(dir)/prioritize.json"))
    let kubeconfig = """
        apiVersion: v1
        kind: Config
        current-context: bench
        clusters:
        - name: bench
          cluster:
            server: \(server.url.absoluteString)
            certificate-authority-data: \(server.certificates.caBundle)
        contexts:
        - name: bench
          context: {cluster: bench, user: bench}
        users:
        - name: bench
          user: {token: \(token)}

        """
    try kubeconfig.write(toFile: "\(dir)/kubeconfig", atomically: true, encoding: .utf8)
    try "\(server.port)\n".write(toFile: "\(dir)/port", atomically: true, encoding: .utf8)
    try "ready\n".write(toFile: "\(dir)/ready", atomically: true, encoding: .utf8)
}

/// The served bytes and request count at the last mark.
final class Marks: @unchecked Sendable {
    private let lock = NSLock()
    private var mark = (bytes: [String: Int](), requests: 0)
    func get() -> (bytes: [String: Int], requests: Int) { lock.withLock { mark } }
    func set(_ m: (bytes: [String: Int], requests: Int)) { lock.withLock { mark = m } }
}

/// `s` indented by two and padded to `width`.
func pad(_ s: String, _ width: Int) -> String { "  " + s.padding(toLength: max(width, s.count), withPad: " ", startingAt: 0) }

/// Writes a line to standard output at once (print's buffer is flushed only at exit when
/// standard output is a file, and this process is ended by a signal).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
