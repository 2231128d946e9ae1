import Controllers
import Foundation
import Hummingbird
import HummingbirdCore
import KubeClient
public import Locality
public import Logging
public import Mutators
import NIOCore
public import ServiceLifecycle
import Synchronization
public import UnixSignals

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
        var policy = policy
        if policy.warm.enabled, backend.isFixed {
            // No cluster to warm anything in, and no one to lift a gate: no pod is gated.
            logger.notice("warmUp is set, but warm-up needs a cluster: served without it")
            policy.warm.enabled = false
        }
        self.policy = policy
        var feeds = LocalityFeeds(cache: backend.cache, index: LocalityIndex(ttl: config.localityTTLSeconds), staticEntries: staticCache)
        feeds.probe = engineProbe
        let log = logger
        let metrics = self.metrics
        let unanswered = Mutex(UnansweredEndpoints())
        feeds.onReports = { reports in
            // Each endpoint is said once when it stops answering and once when it answers again.
            let (change, count) = unanswered.withLock { u in
                (u.update(reports.mapValues(\.problems)), u.count)
            }
            for (ref, problem) in change.stopped {
                log.warning(
                    "engine endpoint stopped answering; its figures expire at the locality TTL",
                    metadata: ["dataset": "\(ref)", "engine": "\(reports[ref]?.source.rawValue ?? "")", "reason": "\(problem)"])
            }
            for (ref, endpoint) in change.recovered {
                log.notice("engine endpoint answers again", metadata: ["dataset": "\(ref)", "endpoint": "\(endpoint)"])
            }
            let newlyStopped = Set(change.stopped.map { "\($0.dataset) \($0.problem)" })
            for (ref, report) in reports {
                if log.logLevel <= .debug {
                    for problem in report.problems where !newlyStopped.contains("\(ref) \(problem)") {
                        log.debug("engine endpoint still not answering", metadata: ["dataset": "\(ref)", "reason": "\(problem)"])
                    }
                }
                metrics.recordEngineReport(source: report.source.rawValue, dataset: "\(ref)", report: report)
            }
            metrics.setUnansweredEndpoints(count)
        }
        self.locality = feeds
        self.logger = logger
    }

    /// Builds the server as a service group. `onRunning` receives the bound port.
    /// `signals`: the signals that start a graceful shutdown (none in tests).
    public func serviceGroup(
        signals: [UnixSignal] = [.sigterm, .sigint], onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> ServiceGroup {
        var elector: LeaderElector?
        var warmUpAlive: (@Sendable () -> Bool)?
        if policy.warm.enabled, case .live(let live) = backend {
            let candidate = leaderElector(live)
            elector = candidate
            warmUpAlive = { candidate.someoneLeads }
        }
        let routes = LocusRoutes(
            backend: backend, metrics: metrics, certificates: certificates, maxRequestBytes: config.maxRequestBytes,
            maxExtenderRequestBytes: config.maxExtenderRequestBytes, policy: policy, locality: locality.index,
            extender: config.extenderConfig,
            connections: connections, requireClientCertificate: certificates.clientCAPath != nil, serving: serving,
            rememberAnswers: config.rememberAnswers, warmUpAlive: warmUpAlive, logger: logger)
        let http1 = HTTP1Channel.Configuration()
        let deadlines = ReadDeadlines(
            head: .milliseconds(Int64(config.requestHeaderTimeoutSeconds * 1000)),
            body: .milliseconds(Int64(config.requestBodyTimeoutSeconds * 1000)),
            idle: .milliseconds(Int64(config.idleTimeoutSeconds * 1000)), stats: connections)
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
            if let elector { services += warmUpServices(live, elector: elector) }
        }
        let feeds = locality
        let serving = self.serving
        let refresh = Duration.milliseconds(Int64(config.localityRefreshSeconds * 1000))
        let backend = self.backend
        if backend.isFixed {
            feeds.refresh()  // a static state: scores are available from the first request
            serving.localityPrimed()
        }
        services.append(
            TaskService(name: "locality") {
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

extension LocusServer {
    /// This replica's candidacy for the warm-up controller's Lease.
    func leaderElector(_ live: LiveCluster) -> LeaderElector {
        LeaderElector(
            client: live.client, namespace: config.leaseNamespace, name: config.leaseName, identity: Self.identity,
            timings: config.leaseTimings, logger: logger)
    }

    /// The pod's name where the Deployment passes it (`POD_NAME`), else host and process.
    static var identity: String {
        ProcessInfo.processInfo.environment["POD_NAME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
    }

    /// Leader election and the warm-up controller: every replica runs both, the leader alone acts.
    func warmUpServices(_ live: LiveCluster, elector: LeaderElector) -> [any Service] {
        let controller = WarmUpController(
            client: live.client, placement: WarmPlacement(cache: live.cache, extender: config.extenderConfig), locality: locality.index,
            isLeader: { elector.isLeader }, events: EventRecorder(client: live.client, instance: elector.identity, logger: logger),
            metrics: metrics, logger: logger)
        logger.info(
            "warm-up enabled: gated pods are lifted by the replica holding the lease",
            metadata: ["lease": "\(config.leaseNamespace)/\(config.leaseName)", "identity": "\(elector.identity)"])
        return [
            TaskService(name: "leader-election") { await elector.run() },
            TaskService(name: "warm-up") { await controller.run() },
        ]
    }
}
