import Foundation
import Logging
import Synchronization
import Yams

/// The cluster objects Locus reads, one store per kind, filled either by informers
/// (`LiveCluster`) or from a static cluster-state file / the built-in example.
public final class ClusterCache: Sendable {
    public let persistentVolumeClaims = Store<PersistentVolumeClaim>()
    public let persistentVolumes = Store<PersistentVolume>()
    /// Nodes, indexed by every label whose value is `"true"` (see `nodeNames(labelledTrue:)`).
    public let nodes = Store<Node>(indexers: [ClusterCache.trueLabelIndex: { node in
        (node.metadata.labels ?? [:]).compactMap { $0.value == "true" ? $0.key : nil }
    }])
    public let configMaps = Store<ConfigMap>()
    /// Namespaces, for their opt-in labels.
    public let namespaces = Store<Namespace>()
    public let datasets = Store<Dataset>()
    /// Fluid runtimes of every kind, keyed `namespace/name` (Fluid names a dataset's runtime after it).
    public let runtimes = Store<FluidRuntime>()
    /// Fluid's FUSE DaemonSets (the container a FUSE sidecar copies).
    public let daemonSets = Store<DaemonSet>()
    /// The cache-worker pods of Fluid's runtimes (see `LiveCluster.workerPodSelector`), indexed by
    /// the runtime they serve (`namespace/release`): the engines ask them where their bytes are.
    public let workerPods = Store<Pod>(indexers: [ClusterCache.runtimeIndex: { pod in
        guard let ns = pod.metadata.namespace, let release = pod.metadata.labels?["release"] else { return [] }
        return ["\(ns)/\(release)"]
    }])
    private let daemonSetsWatched = Atomic<Bool>(false)

    /// Whether `daemonSets` reflects the cluster: true for a live cluster and for a cluster-state
    /// file with a `daemonSets` list; false for a file without one, whose FUSE sidecars can then
    /// only be built from the runtime's `spec.fuse`.
    public var knowsDaemonSets: Bool {
        get { daemonSetsWatched.load(ordering: .acquiring) }
        set { daemonSetsWatched.store(newValue, ordering: .releasing) }
    }

    /// Lays every store's objects out anew (see `Store.compact()`), after a fill that left garbage.
    public func compact() throws {
        try persistentVolumeClaims.compact()
        try persistentVolumes.compact()
        try nodes.compact()
        try configMaps.compact()
        try namespaces.compact()
        try datasets.compact()
        try runtimes.compact()
        try daemonSets.compact()
        try workerPods.compact()
    }

    public init() {}

    static let trueLabelIndex = "label=true"
    static let runtimeIndex = "runtime"

    /// The worker pods Fluid's chart for `role` (e.g. `juicefs-worker`) runs for the runtime
    /// `namespace/name` (Fluid names the Helm release, and so the `release` label, after the runtime).
    public func workerPods(namespace: String, runtime name: String, role: String) -> [Pod] {
        workerPods.byIndex(Self.runtimeIndex, "\(namespace)/\(name)").filter { $0.metadata.labels?["role"] == role }
    }

    /// Names of the nodes carrying `label: "true"`, sorted; an index lookup, not a scan.
    public func nodeNames(labelledTrue label: String) -> [String] {
        unorderedNodeNames(labelledTrue: label).sorted()
    }

    /// The same names in no particular order (nodes are cluster-scoped: their keys are their names).
    public func unorderedNodeNames(labelledTrue label: String) -> [String] {
        nodes.keys(inIndex: Self.trueLabelIndex, label)
    }
}

/// Why a cluster-state file could not be used.
public struct ClusterStateError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The object part of a cluster-state file: lists of API objects as `kubectl get -o yaml` shows them.
public struct ClusterStateObjects: Decodable, Sendable {
    public var datasets: [Dataset]?
    public var runtimes: [FluidRuntime]?
    public var persistentVolumeClaims: [PersistentVolumeClaim]?
    public var persistentVolumes: [PersistentVolume]?
    public var nodes: [Node]?
    public var configMaps: [ConfigMap]?
    public var namespaces: [Namespace]?
    public var daemonSets: [DaemonSet]?

    public static func parse(_ yaml: String, source: String) throws -> ClusterStateObjects {
        do {
            return try YAMLDecoder().decode(ClusterStateObjects.self, from: yaml)
        } catch {
            throw ClusterStateError("cluster state \(source): \(KubeConfig.shortReason(error))")
        }
    }

    /// The objects of an already composed YAML document (so a caller reading other sections of
    /// the same file parses it once).
    public static func decode(_ node: Yams.Node, source: String) throws -> ClusterStateObjects {
        do {
            return try YAMLDecoder().decode(ClusterStateObjects.self, from: node)
        } catch {
            throw ClusterStateError("cluster state \(source): \(KubeConfig.shortReason(error))")
        }
    }

    /// Loads the objects into `cache`, checking what every later lookup relies on.
    public func load(into cache: ClusterCache, source: String) throws {
        func check<T: KubeObject>(_ objs: [T]?, _ what: String, namespaced: Bool) throws -> [T] {
            let objs = objs ?? []
            var seen = Set<String>()
            for (i, o) in objs.enumerated() {
                guard let name = o.metadata.name, !name.isEmpty else {
                    throw ClusterStateError("cluster state \(source): \(what)[\(i)] has no metadata.name")
                }
                if namespaced && (o.metadata.namespace ?? "").isEmpty {
                    throw ClusterStateError("cluster state \(source): \(what) \(name) has no metadata.namespace")
                }
                guard seen.insert(o.metadata.key).inserted else {
                    throw ClusterStateError("cluster state \(source): \(what) \(o.metadata.key) appears twice")
                }
            }
            return objs
        }
        let runtimes = try check(self.runtimes, "runtimes", namespaced: true)
        for r in runtimes where r.runtimeKind == nil {
            throw ClusterStateError(
                "cluster state \(source): runtime \(r.metadata.key) has kind \(r.kind ?? "(none)"); expected one of \(FluidRuntimeKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        _ = cache.datasets.replace(with: try check(datasets, "datasets", namespaced: true))
        _ = cache.runtimes.replace(with: runtimes)
        _ = cache.persistentVolumeClaims.replace(with: try check(persistentVolumeClaims, "persistentVolumeClaims", namespaced: true))
        _ = cache.persistentVolumes.replace(with: try check(persistentVolumes, "persistentVolumes", namespaced: false))
        _ = cache.nodes.replace(with: try check(nodes, "nodes", namespaced: false))
        _ = cache.configMaps.replace(with: try check(configMaps, "configMaps", namespaced: true))
        _ = cache.namespaces.replace(with: try check(namespaces, "namespaces", namespaced: false))
        _ = cache.daemonSets.replace(with: try check(daemonSets, "daemonSets", namespaced: true))
        cache.knowsDaemonSets = daemonSets != nil
    }
}

/// What an informer reports about itself: its first list done, its counters, its contact with
/// the API server.
public struct InformerStatus: Sendable {
    public var synced: Bool
    public var stats: InformerStats
    public var contact: Contact

    public init(synced: Bool, stats: InformerStats, contact: Contact) {
        self.synced = synced
        self.stats = stats
        self.contact = contact
    }
}

/// Informers keeping a `ClusterCache` in step with a real cluster.
public final class LiveCluster: Sendable {
    /// Fluid's charts label each runtime's FUSE DaemonSet `role: <chart>-fuse`; only those are
    /// watched, not every DaemonSet of the cluster.
    public static let fuseDaemonSetSelector =
        "role in (alluxio-fuse,efc-fuse,goosefs-fuse,jindofs-fuse,juicefs-fuse,thin-fuse,vineyard-fuse)"
    /// The cache workers whose metrics say what each node holds: Fluid's charts label them
    /// `role: <chart>-worker`. Only these pods are watched, not every pod of the cluster.
    public static let workerPodSelector = "role in (alluxio-worker,juicefs-worker)"

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
        func add<T: KubeObject>(_ resource: Resource, _ store: Store<T>, labelSelector: String? = nil, optional: Bool = false) -> Informer<T> {
            let inf = Informer<T>(
                client: client, resource: resource, labelSelector: labelSelector, store: store, backoff: backoff,
                optionalResource: optional, silenceBound: silenceBound, logger: logger)
            runners.append { await inf.run() }
            statuses.append(("\(resource)", { InformerStatus(synced: inf.hasSynced, stats: inf.stats, contact: inf.contact) }))
            return inf
        }
        add(.persistentVolumeClaims, cache.persistentVolumeClaims)
        add(.persistentVolumes, cache.persistentVolumes)
        add(.nodes, cache.nodes)
        add(.configMaps, cache.configMaps)
        add(.namespaces, cache.namespaces)
        // Only Fluid's FUSE DaemonSets: Fluid labels every runtime component it renders.
        add(.daemonSets, cache.daemonSets, labelSelector: Self.fuseDaemonSetSelector)
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
    public var stats: [(resource: String, stats: InformerStats)] { status.map { ($0.resource, $0.status.stats) } }
    public var contacts: [(resource: String, contact: Contact)] { status.map { ($0.resource, $0.status.contact) } }

    /// The resources whose informer has lost contact with the API server (their objects are served
    /// from the cache as last seen), with the seconds since each last heard from it.
    public func staleResources(now: Date = Date()) -> [(resource: String, seconds: Int)] {
        contacts.compactMap { resource, contact in
            guard case .lost = contact.state else { return nil }
            return (resource, Int((contact.secondsSinceHeard(at: now) ?? 0).rounded()))
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

