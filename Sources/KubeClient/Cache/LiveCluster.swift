public import Foundation
public import Logging
import Synchronization

/// Informers keeping a `ClusterCache` in step with a real cluster.
public final class LiveCluster: Sendable {
    /// Fluid's charts label each runtime's FUSE DaemonSet `role: <chart>-fuse`; only those are
    /// watched, not every DaemonSet of the cluster.
    public static let fuseDaemonSetSelector =
        "role in (alluxio-fuse,efc-fuse,goosefs-fuse,jindofs-fuse,juicefs-fuse,thin-fuse,vineyard-fuse)"
    /// The cache workers whose metrics say what each node holds: Fluid's charts label them
    /// `role: <chart>-worker`. Only these pods are watched, not every pod of the cluster.
    /// Vineyard's workers are watched too: their `--socket` names the socket file.
    public static let workerPodSelector = "role in (alluxio-worker,juicefs-worker,vineyard-worker)"

    public let cache: ClusterCache
    public let client: KubeAPIClient
    let runners: [@Sendable () async -> Void]
    let statusChecks: [(String, @Sendable () -> InformerStatus)]

    /// `silenceBound`: how long a watch may bring nothing before it is re-established; `backoff`:
    /// the retry delays after a failure (see `Informer`).
    public init(
        client: KubeAPIClient, cache: ClusterCache, silenceBound: Duration = .seconds(150), backoff: Backoff = Backoff(),
        logger: Logger
    ) {
        self.cache = cache
        self.client = client
        var runners: [@Sendable () async -> Void] = []
        var statuses: [(String, @Sendable () -> InformerStatus)] = []
        @discardableResult
        func add<T: KubeObject>(
            _ resource: Resource, _ store: Store<T>, labelSelector: String? = nil, optional: Bool = false, metadataOnly: Bool = false,
            named name: String? = nil
        ) -> Informer<T> {
            let inf = Informer<T>(
                client: client, resource: resource, labelSelector: labelSelector, store: store, backoff: backoff, named: name,
                optionalResource: optional, metadataOnly: metadataOnly, silenceBound: silenceBound, logger: logger)
            runners.append { await inf.run() }
            statuses.append((name ?? "\(resource)", { inf.status }))
            return inf
        }
        add(.persistentVolumeClaims, cache.persistentVolumeClaims)
        add(.persistentVolumes, cache.persistentVolumes)
        // Decisions read the names and labels of nodes and namespaces, and which ConfigMaps
        // exist: their metadata alone is listed and watched (a node's status is most of its
        // bytes, a dashboard ConfigMap's data hundreds of KB). The data of the few ConfigMaps a
        // decision names is read by name (`ClusterCache.configMapData`).
        add(.nodes, cache.nodes, metadataOnly: true)
        let contents = ConfigMapContents { namespace, name in
            do {
                return try await client.get(ConfigMap.self, .configMaps, namespace: namespace, name: name)
            } catch let error as KubeAPIError where error.isNotFound {
                return nil
            }
        }
        cache.readConfigMapData(from: contents)
        add(.configMaps, cache.configMaps, metadataOnly: true).addHandler { event in
            if case .deleted(let o) = event { contents.forget(key: o.metadata.key) }
        }
        add(.namespaces, cache.namespaces, metadataOnly: true)
        // Only Fluid's FUSE DaemonSets: Fluid labels every runtime component it renders.
        add(.daemonSets, cache.daemonSets, labelSelector: Self.fuseDaemonSetSelector)
        add(.daemonSets, cache.daemonSetHeaders, metadataOnly: true, named: "daemonsets.apps (metadata)")
        cache.knowsDaemonSets = true
        add(.pods, cache.workerPods, labelSelector: Self.workerPodSelector)
        // Fluid's CRDs may be missing (Fluid not installed, or an older Fluid without a runtime kind):
        // then the store stays empty and the informer counts as synced.
        add(.datasets, cache.datasets, optional: true)
        // Each runtime kind has its own informer; changes are mirrored into the one runtime
        // store, tagged with the kind (list items carry no `kind`).
        let shared = cache.runtimes
        for kind in FluidRuntimeKind.allCases {
            add(.fluidRuntime(kind), Store<FluidRuntime>(), optional: true).addHandler { event in
                switch event {
                case .added(var o), .updated(_, var o):
                    o.kind = kind.rawValue
                    shared.upsert(o)
                case .deleted(let o):
                    if shared.get(key: o.metadata.key)?.kind == kind.rawValue { shared.delete(o) }
                }
            }
        }
        self.runners = runners
        self.statusChecks = statuses
    }

    /// Each informer's resource and state, in the order they were added.
    public var status: [(resource: String, status: InformerStatus)] { statusChecks.map { ($0.0, $0.1()) } }
    public var hasSynced: Bool { statusChecks.allSatisfy { $0.1().synced } }
    public var syncState: [(resource: String, synced: Bool)] { status.map { ($0.resource, $0.status.synced) } }
    /// The resources whose first list is not done yet, each with the failure that holds it up
    /// (nil while it is only under way).
    public var unsynced: [(resource: String, failure: String?)] {
        status.filter { !$0.status.synced }.map { ($0.resource, $0.status.failure) }
    }
    public var stats: [(resource: String, stats: InformerStats)] { status.map { ($0.resource, $0.status.stats) } }
    public var contacts: [(resource: String, contact: Contact)] { status.map { ($0.resource, $0.status.contact) } }

    /// The resources whose informer has lost contact with the API server (their objects are served
    /// from the cache as last seen), with the seconds since each last heard from it.
    public func staleResources(now: Date = Date()) -> [(resource: String, seconds: Int, failure: String?)] {
        status.compactMap { resource, status in
            guard status.synced, case .lost = status.contact.state else { return nil }
            return (resource, Int((status.contact.secondsSinceHeard(at: now) ?? 0).rounded()), status.failure)
        }
    }

    /// Closes the API client; call after `run()` returned.
    public func shutdown() async { await client.shutdown() }

    /// Runs every informer until cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for r in runners { group.addTask { await r() } }
        }
    }
}
