import Foundation
import AsyncHTTPClient
import Hummingbird
import HummingbirdCore
import KubeClient
import Logging
import Locality
import Mutators
import NIOCore
import SchedulerExtender
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Where the cluster objects come from: informers against a real API server, or a static state.
public enum ClusterBackend: Sendable {
    case live(LiveCluster)
    case fixed(ClusterCache)

    public var cache: ClusterCache {
        switch self {
        case .live(let l): l.cache
        case .fixed(let c): c
        }
    }

    public var isFixed: Bool {
        if case .fixed = self { return true }
        return false
    }

    /// Ready once every informer has its first list (a static state is always ready).
    public var isReady: Bool {
        switch self {
        case .live(let l): l.hasSynced
        case .fixed: true
        }
    }

    /// Resources whose informer lost contact with the API server, and for how long.
    public func staleResources() -> [(resource: String, seconds: Int)] {
        switch self {
        case .live(let l): l.staleResources()
        case .fixed: []
        }
    }

    public var unsynced: [String] {
        switch self {
        case .live(let l): l.syncState.filter { !$0.synced }.map(\.resource)
        case .fixed: []
        }
    }
}

/// The routes Locus answers, all on one TLS port.
public enum Route: String, CaseIterable, Sendable {
    case mutate = "/mutate"
    case filter = "/filter"
    case prioritize = "/prioritize"
    case bind = "/bind"
    case healthz = "/healthz"
    case readyz = "/readyz"
    case metrics = "/metrics"

    var label: String { String(rawValue.dropFirst()) }
}

/// A JSON error body: `{"error": "..."}`.
struct ErrorBody: Encodable {
    var error: String
}

/// The request context of Locus's routes: Hummingbird's, plus the connection's channel (to ask
/// TLS who the client is).
public struct LocusRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}

/// With a client CA configured, the webhook and extender routes answer only clients that
/// presented a certificate (TLS already checked it chains to the CA): kube-apiserver through
/// its AdmissionConfiguration kubeconfig, kube-scheduler through the extender's tlsConfig.
struct ClientCertificateMiddleware: RouterMiddleware {
    typealias Context = LocusRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let certificate = try? await context.channel.nioSSL_peerCertificate().get()
        guard certificate != nil else {
            logger.notice("request without a client certificate refused", metadata: ["path": "\(request.uri.path)"])
            return LocusRoutes.json(.unauthorized, "a client certificate signed by the configured client CA is required on \(request.uri.path)")
        }
        return try await next(request, context)
    }
}

/// Records a count and latency per route and status code.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: LocusMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let route = Route(rawValue: request.uri.path)?.label ?? "other"
        do {
            let response = try await next(request, context)
            metrics.recordRequest(route: route, code: Int(response.status.code), duration: .now - start)
            return response
        } catch {
            let code = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.recordRequest(route: route, code: Int(code), duration: .now - start)
            throw error
        }
    }
}

/// Builds the router: every route Locus serves, and the body limit on the POST routes.
public struct LocusRoutes: Sendable {
    public let backend: ClusterBackend
    public let metrics: LocusMetrics
    public let certificates: CertificateStore?
    public let maxRequestBytes: Int
    /// kube-scheduler's full-NodeList requests can be several MB (no API-server limit applies).
    public let maxExtenderRequestBytes: Int
    public let policy: AdmissionPolicy
    public let locality: LocalityIndex
    public let extender: ExtenderConfig
    public let connections: ConnectionStats?
    /// `/mutate`, `/filter` and `/prioritize` answer only clients with a verified certificate.
    public let requireClientCertificate: Bool
    public let serving: ServingState?
    let logger: Logger

    public init(
        backend: ClusterBackend, metrics: LocusMetrics, certificates: CertificateStore?, maxRequestBytes: Int,
        maxExtenderRequestBytes: Int = 32 << 20, policy: AdmissionPolicy = AdmissionPolicy(), locality: LocalityIndex = LocalityIndex(),
        extender: ExtenderConfig = ExtenderConfig(), connections: ConnectionStats? = nil, requireClientCertificate: Bool = false,
        serving: ServingState? = nil, logger: Logger = Logger(label: "locus")
    ) {
        self.serving = serving
        self.connections = connections
        self.requireClientCertificate = requireClientCertificate
        self.backend = backend
        self.metrics = metrics
        self.certificates = certificates
        self.maxRequestBytes = maxRequestBytes
        self.maxExtenderRequestBytes = maxExtenderRequestBytes
        var policy = policy
        policy.explain = false  // nothing on the wire carries them
        self.policy = policy
        self.locality = locality
        self.extender = extender
        self.logger = logger
    }

    static func json(_ status: HTTPResponse.Status, _ message: String) -> Response {
        jsonBytes(status, errorBytes(message))
    }

    /// `{"error": message}`.
    static func errorBytes(_ message: String) -> [UInt8] {
        Array((try? JSONEncoder().encode(ErrorBody(error: message))) ?? Data("{}".utf8))
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// Reads a request body of at most `limit` (default `maxRequestBytes`). Larger bodies are refused
    /// with 413 before they are read whole when they announce their length, or as soon as the limit is passed.
    func readBody(_ request: inout Request, limit: Int? = nil) async throws -> ByteBuffer {
        let limit = limit ?? maxRequestBytes
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        if let declared, declared > limit {
            throw HTTPError(.contentTooLarge, message: "request body of \(declared) bytes is over the limit of \(limit) bytes")
        }
        // Collected into one buffer sized from Content-Length up front: a body of megabytes (a full
        // NodeList) arrives in many TLS records, and growing the buffer by doubling would copy it
        // again and again. A body that came in one piece is used as it is.
        var chunks = request.body.makeAsyncIterator()
        guard var body = try await chunks.next() else { return ByteBuffer() }
        while let chunk = try await chunks.next() {
            guard body.readableBytes + chunk.readableBytes <= limit else {
                throw HTTPError(.contentTooLarge, message: "request body is over the limit of \(limit) bytes")
            }
            if body.writableBytes < chunk.readableBytes {
                body.reserveCapacity(minimumWritableBytes: max(chunk.readableBytes, (declared ?? 0) - body.readableBytes))
            }
            body.writeImmutableBuffer(chunk)
        }
        guard body.readableBytes <= limit else {
            throw HTTPError(.contentTooLarge, message: "request body is over the limit of \(limit) bytes")
        }
        return body
    }

    public func router() -> Router<LocusRequestContext> {
        let router = Router(context: LocusRequestContext.self)
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        // The routes that decide: behind the client certificate when one is required. Health and
        // metrics stay open to kubelet probes and Prometheus.
        let deciding = requireClientCertificate ? router.group().add(middleware: ClientCertificateMiddleware(logger: logger)) : router.group()
        deciding.post(RouterPath(Route.mutate.rawValue)) { request, _ -> Response in
            var request = request
            return try await self.mutate(&request)
        }
        deciding.post(RouterPath(Route.filter.rawValue)) { request, _ -> Response in
            var request = request
            return try await self.filter(&request)
        }
        deciding.post(RouterPath(Route.prioritize.rawValue)) { request, _ -> Response in
            var request = request
            return try await self.prioritize(&request)
        }
        router.get("/healthz") { _, _ in Self.text(.ok, "ok\n") }
        let serving = self.serving
        router.get("/readyz") { _, _ -> Response in
            if serving?.isDraining == true { return Self.text(.serviceUnavailable, "not ready: shutting down\n") }
            if serving?.isLocalityPrimed == false, backend.isReady { return Self.text(.serviceUnavailable, "not ready: building the locality index\n") }
            if backend.isReady {
                // During an API server outage Locus keeps answering from its cache: readiness stays,
                // and says which resources are stale.
                let stale = backend.staleResources()
                guard !stale.isEmpty else { return Self.text(.ok, "ready\n") }
                let list = stale.map { "\($0.resource) (\($0.seconds) s)" }.joined(separator: ", ")
                return Self.text(.ok, "ready, serving cached cluster state; no contact with the API server for: \(list)\n")
            }
            return Self.text(.serviceUnavailable, "not ready: waiting for the first list of \(backend.unsynced.joined(separator: ", "))\n")
        }
        router.get("/metrics") { _, _ -> Response in
            self.refreshGauges()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.metrics.render())))
        }
        return router
    }

    /// Requests must say they carry JSON (with or without a charset); anything else is 415.
    static func requireJSON(_ request: Request) throws {
        guard let header = request.headers[.contentType], isJSON(header) else {
            throw HTTPError(
                .unsupportedMediaType,
                message: "content type must be application/json, got \(request.headers[.contentType] ?? "none")")
        }
    }

    /// `application/json`, in any case, optionally followed by parameters (`; charset=utf-8`).
    static func isJSON(_ contentType: String) -> Bool {
        var it = contentType.utf8.makeIterator()
        for e in "application/json".utf8 {
            guard let c = it.next() else { return false }
            let lower = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) ? c + 32 : c
            guard lower == e else { return false }
        }
        while let c = it.next() {
            if c == UInt8(ascii: ";") { return true }
            if c != UInt8(ascii: " ") && c != UInt8(ascii: "\t") { return false }
        }
        return true
    }

    /// `POST /mutate`: an AdmissionReview in, an AdmissionReview out (same version and uid).
    /// A body that is not an AdmissionReview gets 400 with the reason; every decision is 200.
    /// (Most reviews are answered on the event loop by `MutateOnEventLoop`, with the same `answerMutate`.)
    func mutate(_ request: inout Request) async throws -> Response {
        try Self.requireJSON(request)
        let body = try await readBody(&request)
        let (status, bytes) = answerMutate(body)
        return Self.jsonBytes(status, bytes)
    }

    /// The answer to one `/mutate` body: 200 with the AdmissionReview, or 400 with why the body
    /// is not one. Synchronous and without I/O, so it can run on the connection's event loop.
    func answerMutate(_ body: ByteBuffer) -> (HTTPResponse.Status, [UInt8]) {
        let review: AdmissionRequest
        do {
            review = try body.withUnsafeReadableBytes { try AdmissionRequest.parse(UnsafeRawBufferPointer($0)) }
        } catch {
            logger.notice("malformed AdmissionReview", metadata: ["error": "\(error)"])
            return (.badRequest, Self.errorBytes("\(error)"))
        }
        let result = Admission.review(review, catalog: backend.cache, policy: policy)
        metrics.recordAdmission(outcome: result.outcome.rawValue, engines: result.engines, injections: result.injections)
        switch result.outcome {
        case .denied, .allowedWithProblems:
            logger.info(
                "admission \(result.outcome.rawValue)",
                metadata: [
                    "uid": "\(review.uid)", "namespace": "\(review.namespace ?? "")",
                    "problems": "\(result.problems.joined(separator: "; "))",
                ])
        case .mutated:
            logger.debug(
                "admission mutated",
                metadata: ["uid": "\(review.uid)", "namespace": "\(review.namespace ?? "")", "engines": "\(result.engines.joined(separator: ","))"])
        case .unchanged, .skipped:
            break
        }
        return (.ok, result.response.review(apiVersion: review.apiVersion))
    }

    static func jsonBytes(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Reads an extender request body and its ExtenderArgs (without copying the body); a request
    /// that cannot be read is answered 400 with the reason in `Error`.
    func extenderArgs(_ request: inout Request, verb: String) async throws -> (ByteBuffer, Result<ExtenderArgs, ExtenderRequestError>) {
        try Self.requireJSON(request)
        let body = try await readBody(&request, limit: maxExtenderRequestBytes)
        do {
            return (body, .success(try body.withUnsafeReadableBytes { try ExtenderArgs.parse(borrowing: $0) }))
        } catch let error as ExtenderRequestError {
            logger.notice("malformed ExtenderArgs", metadata: ["verb": "\(verb)", "error": "\(error)"])
            metrics.recordExtender(verb: verb, outcome: "malformed")
            return (body, .failure(error))
        }
    }

    /// Node labels: from the NodeList when kube-scheduler sent one, else from the node cache
    /// (nil for a node Locus does not know, which then passes).
    func labels(_ args: ExtenderArgs) -> (String) -> [String: String]? {
        if let given = args.nodeLabels { return { given[$0] } }
        let nodes = backend.cache.nodes
        return { name in nodes.get(namespace: nil, name: name).map { $0.metadata.labels ?? [:] } }
    }

    /// `POST /filter`: `ExtenderArgs` in, `ExtenderFilterResult` out.
    func filter(_ request: inout Request) async throws -> Response {
        let args: ExtenderArgs
        let (body, parsed) = try await extenderArgs(&request, verb: "filter")
        switch parsed {
        case .success(let a): args = a
        case .failure(let e): return Self.jsonBytes(.badRequest, FilterResult(passed: [], error: e.description).encoded(for: nil))
        }
        let plan = PodPlan.of(pod: args.pod, cache: backend.cache)
        let result = Extender.filter(plan, nodes: args.nodeNames, labels: labels(args))
        metrics.recordExtender(verb: "filter", outcome: plan.isEmpty ? "no_datasets" : (result.passed.isEmpty ? "no_node" : "ok"))
        metrics.recordFiltered(nodes: result.unresolvable.count)
        if !result.unresolvable.isEmpty {
            logger.info(
                "nodes filtered out", metadata: ["pod": "\(plan.namespace)/\(plan.name)", "failed": "\(result.unresolvable.count)", "passed": "\(result.passed.count)"])
        }
        // Passing nodes of a full NodeList are answered with slices of the request body (no copy).
        let pieces = body.withUnsafeReadableBytes { raw in result.pieces(for: args, raw: raw) }
        let buffers = pieces.map { piece -> ByteBuffer in
            switch piece {
            case .bytes(let b): ByteBuffer(bytes: b)
            case .request(let r): body.getSlice(at: body.readerIndex + r.lowerBound, length: r.count)!
            }
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(contentsOf: buffers))
    }

    /// `POST /prioritize`: `ExtenderArgs` in, `HostPriorityList` out.
    func prioritize(_ request: inout Request) async throws -> Response {
        let args: ExtenderArgs
        switch try await extenderArgs(&request, verb: "prioritize").1 {
        case .success(let a): args = a
        case .failure(let e): return Self.json(.badRequest, e.description)
        }
        let plan = PodPlan.of(pod: args.pod, cache: backend.cache)
        let (scores, basis) = Extender.scores(
            plan, nodes: args.nodeNames, locality: locality.snapshot(), config: extender, view: NodeView.cluster(backend.cache, given: args.nodeLabels))
        let names = args.nodeNames
        metrics.recordPrioritize(basis: basis.rawValue, bestScore: scores.max())
        var out: [UInt8] = []
        out.reserveCapacity(32 * names.count + 2)
        writeHostPriorities(count: names.count, host: { names[$0] }, score: { scores[$0] }, into: &out)
        return Self.jsonBytes(.ok, out)
    }

    func refreshGauges() {
        if case .live(let live) = backend {
            let now = Date()
            for (resource, status) in live.status {
                metrics.setInformerState(resource: resource, status: status, now: now)
            }
        }
        for (source, oldest) in locality.snapshot().oldestConfirmation {
            metrics.setLocalityAge(source: source.rawValue, seconds: Date().timeIntervalSince(oldest))
        }
        if let certificates {
            metrics.setCertificateState(reloads: certificates.reloadCount, failures: certificates.failedReloadCount)
        }
        if let connections {
            metrics.setConnectionState(open: connections.openConnections, limitReached: connections.deferredAccepts, slowClosed: connections.slowClientsClosed)
        }
    }
}

/// A long-running task as a service that stops on graceful shutdown.
struct TaskService: Service {
    let name: String
    let body: @Sendable () async -> Void

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            await body()
        }
    }
}

/// What `/readyz` needs beyond the informers: the locality index built from the synced caches
/// (so the first pods are scored by bytes, not by an empty index), and no SIGTERM yet (so
/// endpoints drop the pod while it still serves).
public final class ServingState: Sendable {
    private let draining = Atomic<Bool>(false)
    private let primed = Atomic<Bool>(false)
    public init() {}
    public var isDraining: Bool { draining.load(ordering: .relaxed) }
    public var isLocalityPrimed: Bool { primed.load(ordering: .relaxed) }
    func startDraining() { draining.store(true, ordering: .relaxed) }
    func localityPrimed() { primed.store(true, ordering: .relaxed) }
}

/// Registered last, so shut down first: on SIGTERM it marks the server draining (not ready) and
/// waits `delay` while the server keeps accepting, so kube-apiserver and kube-scheduler, which
/// still route to this pod until the endpoints update, are not refused; then the server stops
/// accepting and finishes what is in flight.
struct ShutdownDelay: Service {
    let delay: Duration
    let state: ServingState
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()  // returns once a graceful shutdown was triggered
        state.startDraining()
        guard delay > .zero else { return }
        logger.info("shutting down: not ready, still serving for \(delay) while endpoints update")
        try? await Task.sleep(for: delay)
    }
}

/// Everything `locus serve` runs: the TLS server, the informers, the certificate watcher.
public struct LocusServer: Sendable {
    public let config: ServeConfig
    public let backend: ClusterBackend
    public let certificates: CertificateStore
    public let metrics: LocusMetrics
    public let policy: AdmissionPolicy
    public let locality: LocalityFeeds
    public let connections = ConnectionStats()
    public let serving = ServingState()
    let logger: Logger

    public init(
        config: ServeConfig, backend: ClusterBackend, certificates: CertificateStore, policy: AdmissionPolicy,
        staticCache: [StaticCacheEntry] = [], engineProbe: EngineProbe? = nil, logger: Logger
    ) {
        self.config = config
        self.backend = backend
        self.certificates = certificates
        self.metrics = LocusMetrics()
        self.policy = policy
        var feeds = LocalityFeeds(cache: backend.cache, index: LocalityIndex(ttl: config.localityTTLSeconds), staticEntries: staticCache)
        feeds.probe = engineProbe
        let log = logger
        let metrics = self.metrics
        feeds.onReports = { reports in
            for (ref, report) in reports {
                for problem in report.problems {
                    log.warning("engine did not answer", metadata: ["dataset": "\(ref)", "engine": "\(report.source.rawValue)", "reason": "\(problem)"])
                }
                metrics.recordEngineReport(source: report.source.rawValue, dataset: "\(ref)", report: report)
            }
        }
        self.locality = feeds
        self.logger = logger
    }

    /// Builds the server as a service group. `onRunning` receives the bound port.
    /// `signals`: the signals that start a graceful shutdown (none in tests).
    public func serviceGroup(
        signals: [UnixSignal] = [.sigterm, .sigint], onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> ServiceGroup {
        let routes = LocusRoutes(
            backend: backend, metrics: metrics, certificates: certificates, maxRequestBytes: config.maxRequestBytes,
            maxExtenderRequestBytes: config.maxExtenderRequestBytes, policy: policy, locality: locality.index, extender: config.extenderConfig,
            connections: connections, requireClientCertificate: certificates.clientCAPath != nil, serving: serving, logger: logger)
        let http1 = HTTP1Channel.Configuration(idleTimeout: TimeAmount.milliseconds(Int64(config.idleTimeoutSeconds * 1000)))
        let deadlines = ReadDeadlines(
            head: .milliseconds(Int64(config.requestHeaderTimeoutSeconds * 1000)),
            body: .milliseconds(Int64(config.requestBodyTimeoutSeconds * 1000)), stats: connections)
        let app = Application(
            router: routes.router(),
            server: .reloadingTLS(
                store: certificates, configuration: http1, deadlines: deadlines,
                mutateOnEventLoop: config.eventLoopReviewBytes > 0 ? (routes, config.eventLoopReviewBytes) : nil),
            configuration: ApplicationConfiguration(
                address: .hostname(config.address, port: config.port), serverName: nil,
                availableConnectionsDelegate: ConnectionLimit(limit: config.maxConnections, stats: connections, logger: logger)),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        var services: [any Service] = [app]
        let certs = certificates
        let interval = Duration.milliseconds(Int64(config.certReloadSeconds * 1000))
        services.append(TaskService(name: "certificate-watcher") { await certs.watch(interval: interval) })
        if case .live(let live) = backend {
            services.append(TaskService(name: "informers") { await live.run() })
        }
        let feeds = locality
        let serving = self.serving
        let refresh = Duration.milliseconds(Int64(config.localityRefreshSeconds * 1000))
        let backend = self.backend
        if backend.isFixed {
            feeds.refresh()  // a static state: scores are available from the first request
            serving.localityPrimed()
        }
        services.append(TaskService(name: "locality") {
            // With a live cluster the caches fill after start: the first refresh waits until the
            // informers synced (not a whole interval more), and only then is the server ready.
            if case .live(let live) = backend {
                while !live.hasSynced, !Task.isCancelled { try? await Task.sleep(for: .milliseconds(50)) }
                FreedMemory.release()  // the first lists' decoding garbage
            }
            // A static state was refreshed above, before the server started.
            await feeds.run(interval: refresh, alreadyRefreshed: backend.isFixed, afterFirstRefresh: { serving.localityPrimed() })
        })
        services.append(ShutdownDelay(delay: .milliseconds(Int64(config.shutdownDelaySeconds * 1000)), state: serving, logger: logger))
        var groupConfig = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: signals, logger: logger)
        groupConfig.maximumGracefulShutdownDuration = .milliseconds(Int64(config.shutdownGraceSeconds * 1000))
        return ServiceGroup(configuration: groupConfig)
    }
}
