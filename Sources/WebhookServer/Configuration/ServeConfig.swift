import Controllers
public import Locality
public import Logging
public import Mutators
import SchedulerExtender

/// Everything `locus serve` needs. Sources, lowest precedence first: built-in defaults, the
/// YAML config file (`--config`), `LOCUS_*` environment variables, command-line flags.
///
/// Each stored property is one configuration key, its default here and the rest in `keys` below:
/// the key's name in the file (and so its environment variable), how a value is read, what it
/// means, and where the value goes in the admission policy or the extender's config.
public struct ServeConfig: Sendable, Equatable {
    public var address = "0.0.0.0"
    public var port = 8443
    public var certFile: String?
    public var keyFile: String?
    public var clientCAFile: String?
    public var certDirectory = "certs"
    public var certReloadSeconds: Double = 10
    public var kubeconfig: String?
    public var clusterState: String?
    public var example = false
    public var logLevel: Logger.Level = .info
    public var logFormat: LogFormat = .json
    public var maxRequestBytes = 3 * 1024 * 1024
    public var eventLoopReviewBytes = 128 * 1024
    public var rememberAnswers = true
    public var maxExtenderRequestBytes = 32 * 1024 * 1024
    public var idleTimeoutSeconds: Double = 60
    public var maxConnections = 1024
    public var requestHeaderTimeoutSeconds: Double = 10
    public var requestBodyTimeoutSeconds: Double = 30
    public var shutdownDelaySeconds: Double = 5
    public var shutdownGraceSeconds: Double = 20
    public var onFailure = Self.policyDefaults.onFailure
    public var fuseMode = Self.policyDefaults.mutation.defaultFuseMode
    public var podSecurityFallback = Self.policyDefaults.mutation.podSecurityFallback
    public var fuseDeviceResource = Self.policyDefaults.mutation.fuseDeviceResource
    public var kubernetesVersion: String?
    public var sharedMemoryMountPath = Self.policyDefaults.mutation.sharedMemoryMountPath
    public var socketRoots = Self.policyDefaults.mutation.socketRoots
    public var envIntoInitContainers = Self.policyDefaults.mutation.envIntoInitContainers
    public var schedulingHints = Self.policyDefaults.mutation.schedulingHints
    public var avoidCacheNodes = Self.policyDefaults.mutation.avoidCacheNodes
    public var announceInjections = Self.policyDefaults.announceInjections
    public var memoryWeight = Self.extenderDefaults.memoryWeight
    public var ssdWeight = Self.extenderDefaults.ssdWeight
    public var hddWeight = Self.extenderDefaults.hddWeight
    public var sharedMemoryBonus = Self.extenderDefaults.sharedMemoryBonus
    public var topologyNodeScore = Self.extenderDefaults.topologyNodeScore
    public var topologyZoneScore = Self.extenderDefaults.topologyZoneScore
    public var topologyRegionScore = Self.extenderDefaults.topologyRegionScore
    public var localityTTLSeconds: Double = 120
    public var localityRefreshSeconds: Double = 10
    public var askEngines = true
    public var engineTimeoutSeconds: Double = 2
    public var warmUp = Self.policyDefaults.warm.enabled
    public var warmByDefault = Self.policyDefaults.warm.byDefault
    public var warmThreshold = Self.policyDefaults.warm.threshold
    public var warmDeadlineSeconds = Self.policyDefaults.warm.deadlineSeconds
    public var leaseNamespace = "locus-system"
    public var leaseName = "locus"
    public var leaseDurationSeconds = LeaseTimings().leaseDuration
    public var leaseRenewDeadlineSeconds = LeaseTimings().renewDeadline
    public var leaseRetryPeriodSeconds = LeaseTimings().retryPeriod

    public enum LogFormat: String, Sendable, Equatable, CaseIterable { case json, text }

    /// The defaults of the keys that go on into the admission policy or the extender's config are
    /// those types' own defaults.
    private static let policyDefaults = AdmissionPolicy()
    private static let extenderDefaults = ExtenderConfig()

    public init() {}

    /// Every configuration key: its name (the property's), the property, how a value is read, what it
    /// means, and where else it goes. The file's keys, the `LOCUS_*` variables, the flags that set a key,
    /// the unknown-key and value errors and the README's check all come from this list.
    public static let keys: [ConfigKey] = [
        ConfigKey("address", \.address, .string, "bind address"),
        ConfigKey("port", \.port, .int(0...65535), "TLS port (0: any free port)"),
        ConfigKey("certFile", \.certFile, .string, "serving certificate, PEM (unset, with keyFile: a self-signed pair)"),
        ConfigKey("keyFile", \.keyFile, .string, "serving key, PEM"),
        ConfigKey(
            "clientCAFile", \.clientCAFile, .string,
            """
            CA (PEM) that callers' client certificates must chain to (kube-apiserver's AdmissionConfiguration \
            kubeconfig, the extender's tlsConfig); set, /mutate, /filter and /prioritize refuse clients without one, \
            while /healthz, /readyz and /metrics stay open. Unset: none asked for
            """),
        ConfigKey(
            "certDirectory", \.certDirectory, .string,
            "where a self-signed pair is generated (or found from an earlier start) when no certificate is given"),
        ConfigKey("certReloadSeconds", \.certReloadSeconds, .seconds, "how often certificate files are checked for rotation"),
        ConfigKey(
            "kubeconfig", \.kubeconfig, .string,
            "kubeconfig path (unset: $KUBECONFIG, then the in-cluster service account)"),
        ConfigKey("clusterState", \.clusterState, .string, "cluster-state YAML, served with no cluster"),
        ConfigKey("example", \.example, .bool, "serve the built-in example cluster state"),
        ConfigKey("logLevel", \.logLevel, .oneOf(Logger.Level.allCases), "the least severe log level written"),
        ConfigKey("logFormat", \.logFormat, .oneOf(LogFormat.allCases), "json (one object per line) or text"),
        ConfigKey(
            "maxRequestBytes", \.maxRequestBytes, .int(1024...(64 << 20)),
            "largest AdmissionReview accepted (the default is the API server's own limit)"),
        ConfigKey(
            "eventLoopReviewBytes", \.eventLoopReviewBytes, .int(0...(64 << 20)),
            """
            AdmissionReviews and extender requests up to this size are answered on the connection's event loop (no \
            task hop), larger ones in the router's task, so a huge pod or thousands of node names cannot hold up the \
            loop; 0: all in a task
            """),
        ConfigKey(
            "maxExtenderRequestBytes", \.maxExtenderRequestBytes, .int(1024...(512 << 20)),
            "largest extender request accepted (a full NodeList of 1,000+ nodes is several MB)"),
        ConfigKey(
            "rememberAnswers", \.rememberAnswers, .bool,
            """
            keep whole /mutate answers for a workload's replicas (reviews alike but for their uid, token volume name and \
            managedFields) while the cluster cache is unchanged, from a review's second sighting; false: every review is decided
            """),
        ConfigKey("idleTimeoutSeconds", \.idleTimeoutSeconds, .seconds, "idle keep-alive connections are closed after this"),
        ConfigKey(
            "maxConnections", \.maxConnections, .int(1...1_000_000),
            "most connections open at once; past it new ones wait until one closes"),
        ConfigKey(
            "requestHeaderTimeoutSeconds", \.requestHeaderTimeoutSeconds, .seconds,
            "a request's head must arrive within this of its first byte, else the connection is closed"),
        ConfigKey(
            "requestBodyTimeoutSeconds", \.requestBodyTimeoutSeconds, .seconds,
            "a request's body must arrive within this of its head, else the connection is closed"),
        ConfigKey(
            "shutdownDelaySeconds", \.shutdownDelaySeconds, .secondsOrZero,
            """
            on SIGTERM, /readyz turns 503 and new requests are still served this long, while endpoints drop the pod; \
            0: stop accepting at once
            """),
        ConfigKey(
            "shutdownGraceSeconds", \.shutdownGraceSeconds, .seconds,
            "on SIGTERM, the time in-flight requests get to finish"),
        ConfigKey(
            "onFailure", \.onFailure, .oneOf(AdmissionPolicy.OnFailure.allCases),
            """
            pods naming a dataset Locus cannot serve (missing, in another namespace, …): denied with the reason, \
            or admitted without it and warned
            """, into: .policy(\.onFailure)),
        ConfigKey(
            "fuseMode", \.fuseMode, .oneOf([.serverful, .sidecar]),
            "FUSE mode for pods opted in with locus.dev/inject that do not name one",
            into: .policy(\.mutation.defaultFuseMode)),
        ConfigKey(
            "podSecurityFallback", \.podSecurityFallback, .oneOf(MutationConfig.PodSecurityFallback.allCases),
            """
            a FUSE sidecar the namespace's Pod Security level (pod-security.kubernetes.io/enforce) forbids: the pod \
            is denied with the reason, or the dataset is served in serverful mode with a warning
            """, into: .policy(\.mutation.podSecurityFallback)),
        ConfigKey(
            "fuseDeviceResource", \.fuseDeviceResource, .extendedResource,
            "extended resource an unprivileged FUSE sidecar requests for /dev/fuse from a device plugin; empty: none",
            into: .policy(\.mutation.fuseDeviceResource)),
        ConfigKey(
            "kubernetesVersion", \.kubernetesVersion, .kubernetesVersion,
            "cluster version major.minor; decides native sidecars (unset: asked from the API server once; 1.31 offline)"),
        ConfigKey(
            "sharedMemoryMountPath", \.sharedMemoryMountPath, .absolutePath,
            "where shared-memory sockets appear in app containers", into: .policy(\.mutation.sharedMemoryMountPath)),
        ConfigKey(
            "socketRoots", \.socketRoots, .directories,
            "node directories a shared-memory engine's socket directory (a hostPath in the pod) must lie in",
            into: .policy(\.mutation.socketRoots)),
        ConfigKey(
            "envIntoInitContainers", \.envIntoInitContainers, .bool,
            "envFrom dataset ConfigMaps into init containers too", into: .policy(\.mutation.envIntoInitContainers)),
        ConfigKey(
            "schedulingHints", \.schedulingHints, .bool,
            "preferred node affinity towards the datasets' cache nodes", into: .policy(\.mutation.schedulingHints)),
        ConfigKey(
            "avoidCacheNodes", \.avoidCacheNodes, .bool,
            "pods without datasets prefer nodes without caches", into: .policy(\.mutation.avoidCacheNodes)),
        ConfigKey(
            "announceInjections", \.announceInjections, .bool,
            "one AdmissionReview warning per mutated pod naming which datasets were wired and how",
            into: .policy(\.announceInjections)),
        ConfigKey(
            "memoryWeight", \.memoryWeight, .weight, "scoring weight of a byte cached in memory",
            into: .extender(\.memoryWeight)),
        ConfigKey("ssdWeight", \.ssdWeight, .weight, "scoring weight of a byte cached on SSD", into: .extender(\.ssdWeight)),
        ConfigKey("hddWeight", \.hddWeight, .weight, "scoring weight of a byte cached on HDD", into: .extender(\.hddWeight)),
        ConfigKey(
            "sharedMemoryBonus", \.sharedMemoryBonus, .int(0...10),
            "points added on nodes holding a shared-memory copy the pod reads by IPC",
            into: .extender(\.sharedMemoryBonus)),
        ConfigKey(
            "topologyNodeScore", \.topologyNodeScore, .int(0...10),
            "when nothing is cached anywhere: points per dataset for a node running its cache worker",
            into: .extender(\.topologyNodeScore)),
        ConfigKey(
            "topologyZoneScore", \.topologyZoneScore, .int(0...10),
            "when nothing is cached anywhere: points per dataset for a node in a cache worker's zone",
            into: .extender(\.topologyZoneScore)),
        ConfigKey(
            "topologyRegionScore", \.topologyRegionScore, .int(0...10),
            "when nothing is cached anywhere: points per dataset for a node in a cache worker's region",
            into: .extender(\.topologyRegionScore)),
        ConfigKey(
            "localityTTLSeconds", \.localityTTLSeconds, .seconds,
            "a locality figure older than this reads as unknown (never as a reason to fail a node)"),
        ConfigKey(
            "localityRefreshSeconds", \.localityRefreshSeconds, .seconds,
            "how often the locality index is refreshed from the caches"),
        ConfigKey(
            "askEngines", \.askEngines, .bool,
            "ask the cache engines themselves (vineyardd RPC, JuiceFS metrics) where their bytes are; live clusters only"),
        ConfigKey(
            "engineTimeoutSeconds", \.engineTimeoutSeconds, .seconds,
            "bound on each engine exchange, connect included; an engine that does not answer in time adds nothing"),
        ConfigKey(
            "warmUp", \.warmUp, .bool,
            """
            warm before scheduling: run the warm-up controller (one replica, by Lease) and gate pods that ask \
            (locus.dev/warm) while their datasets are cold; needs the warm-up RBAC component. Off: no pod is gated
            """, into: .policy(\.warm.enabled)),
        ConfigKey(
            "warmByDefault", \.warmByDefault, .bool,
            "with warmUp, every pod that uses a dataset waits for warm data unless labelled locus.dev/warm: \"false\"",
            into: .policy(\.warm.byDefault)),
        ConfigKey(
            "warmThreshold", \.warmThreshold, .warmThreshold,
            "how much of a dataset one node must cache for it to count as warm: a share (90%) or bytes (20Gi)",
            into: .policy(\.warm.threshold)),
        ConfigKey(
            "warmDeadlineSeconds", \.warmDeadlineSeconds, .seconds,
            "the longest a gated pod waits (a pod's locus.dev/warm-deadline overrides); then it starts cold",
            into: .policy(\.warm.deadlineSeconds)),
        ConfigKey("leaseNamespace", \.leaseNamespace, .string, "namespace of the warm-up controller's leader Lease"),
        ConfigKey("leaseName", \.leaseName, .string, "name of the warm-up controller's leader Lease"),
        ConfigKey(
            "leaseDurationSeconds", \.leaseDurationSeconds, .seconds,
            "how long the leader's Lease holds unrenewed before another replica takes it over"),
        ConfigKey(
            "leaseRenewDeadlineSeconds", \.leaseRenewDeadlineSeconds, .seconds,
            "a leader that could not renew for this long stops acting (shorter than the lease duration)"),
        ConfigKey(
            "leaseRetryPeriodSeconds", \.leaseRetryPeriodSeconds, .seconds,
            "how often replicas try to take, and the leader to renew, the Lease"),
    ]
}
