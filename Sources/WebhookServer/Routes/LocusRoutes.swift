import Foundation
public import Hummingbird
import HummingbirdCore
import KubeClient
public import Locality
public import Logging
public import Mutators
import NIOCore
public import SchedulerExtender
import Synchronization

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
    /// Dataset resolutions of earlier reviews, while the cluster cache is unchanged.
    let resolutions = ResolutionMemo()
    /// Answers to earlier reviews, for the replicas of a workload (same review but for its uid and
    /// token volume name); nil when the configuration turns it off (`rememberAnswers`).
    let answers: ReviewMemo?
    /// Whether a replica leads the warm-up controller now (nil: no warm-up, or nothing to ask).
    let warmUpAlive: (@Sendable () -> Bool)?
    let logger: Logger

    public init(
        backend: ClusterBackend, metrics: LocusMetrics, certificates: CertificateStore?, maxRequestBytes: Int,
        maxExtenderRequestBytes: Int = 32 << 20, policy: AdmissionPolicy = AdmissionPolicy(), locality: LocalityIndex = LocalityIndex(),
        extender: ExtenderConfig = ExtenderConfig(), connections: ConnectionStats? = nil, requireClientCertificate: Bool = false,
        serving: ServingState? = nil, rememberAnswers: Bool = true, warmUpAlive: (@Sendable () -> Bool)? = nil,
        logger: Logger = Logger(label: "locus")
    ) {
        self.warmUpAlive = warmUpAlive
        self.answers = rememberAnswers ? ReviewMemo(keepFromSecondSighting: true) : nil
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

    public func router() -> Router<LocusRequestContext> {
        let router = Router(context: LocusRequestContext.self)
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        // The routes that decide: behind the client certificate when one is required. Health and
        // metrics stay open to kubelet probes and Prometheus.
        let deciding =
            requireClientCertificate ? router.group().add(middleware: ClientCertificateMiddleware(logger: logger)) : router.group()
        for route in Self.deciding {
            deciding.post(RouterPath(route.rawValue)) { request, _ -> Response in
                var request = request
                return try await self.serve(route, &request)
            }
        }
        router.get(RouterPath(Route.healthz.rawValue)) { _, _ in Self.text(.ok, "ok\n") }
        router.get(RouterPath(Route.readyz.rawValue)) { _, _ in self.readiness() }
        router.get(RouterPath(Route.metrics.rawValue)) { _, _ in self.metricsPage() }
        return router
    }
}
