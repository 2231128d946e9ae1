import Foundation
import Synchronization
import Yams

/// The cluster objects Locus reads, one store per kind, filled either by informers
/// (`LiveCluster`) or from a static cluster-state file / the built-in example.
public final class ClusterCache: Sendable {
    public let persistentVolumeClaims = Store<PersistentVolumeClaim>()
    public let persistentVolumes = Store<PersistentVolume>()
    /// Nodes, indexed by every label whose value is `"true"` (see `nodeNames(labelledTrue:)`),
    /// and by the keys of `indexedLabelKeys` they carry (see `nodeLabels(carrying:)`).
    public let nodes = Store<Node>(indexers: [
        ClusterCache.trueLabelIndex: { node in
            (node.metadata.labels ?? [:]).compactMap { $0.value == "true" ? $0.key : nil }
        },
        ClusterCache.labelKeyIndex: { node in
            ClusterCache.indexedLabelKeys.filter { node.metadata.labels?[$0] != nil }
        },
    ])
    /// Node label keys looked up through an index rather than node by node: Fluid's Exclusive
    /// placement label, which the extender's filter reads for every node it is asked about.
    public static let indexedLabelKeys = ["fluid_exclusive"]
    /// ConfigMaps: from a live cluster their metadata alone (read the data of one with
    /// `configMapData`); from a cluster-state file whole.
    public let configMaps = Store<ConfigMap>()
    private let configMapContents = Mutex<ConfigMapContents?>(nil)
    /// Namespaces, for their opt-in labels.
    public let namespaces = Store<Namespace>()
    public let datasets = Store<Dataset>()
    /// Fluid runtimes of every kind, keyed `namespace/name` (Fluid names a dataset's runtime after it).
    public let runtimes = Store<FluidRuntime>()
    /// Fluid's FUSE DaemonSets (the container a FUSE sidecar copies).
    public let daemonSets = Store<DaemonSet>()
    /// Every DaemonSet of the cluster by its metadata alone: a FUSE DaemonSet that is not among
    /// `daemonSets` (it lacks Fluid's `role` label) is reported as found but unlabelled.
    public let daemonSetHeaders = Store<ObjectHeader>()
    /// The cache-worker pods of Fluid's runtimes (see `LiveCluster.workerPodSelector`), indexed by
    /// the runtime they serve (`namespace/release`): the engines ask them where their bytes are.
    public let workerPods = Store<Pod>(indexers: [
        ClusterCache.runtimeIndex: { pod in
            guard let ns = pod.metadata.namespace, let release = pod.metadata.labels?["release"] else { return [] }
            return ["\(ns)/\(release)"]
        }
    ])
    private let daemonSetsWatched = Atomic<Bool>(false)

    /// Whether `daemonSets` reflects the cluster: true for a live cluster and for a cluster-state
    /// file with a `daemonSets` list; false for a file without one, whose FUSE sidecars can then
    /// only be built from the runtime's `spec.fuse`.
    public var knowsDaemonSets: Bool {
        get { daemonSetsWatched.load(ordering: .acquiring) }
        set {
            daemonSetsWatched.store(newValue, ordering: .releasing)
            daemonSetsWatchedChanges.add(1, ordering: .releasing)
        }
    }
    private let daemonSetsWatchedChanges = Atomic<UInt64>(0)

    /// Grows with every change to the stores of the cluster's configuration (all but `nodes` and
    /// `workerPods`) or to `knowsDaemonSets`, after the change: anything computed from those
    /// while `revision` reads R still holds while it reads R. Nodes and worker pods are left out:
    /// their status changes all the time, and what is kept by this revision does not read them.
    public var revision: UInt64 {
        persistentVolumeClaims.revision &+ persistentVolumes.revision &+ configMaps.revision &+ namespaces.revision
            &+ datasets.revision &+ runtimes.revision &+ daemonSets.revision &+ daemonSetHeaders.revision
            &+ daemonSetsWatchedChanges.load(ordering: .acquiring)
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
        try daemonSetHeaders.compact()
        try workerPods.compact()
    }

    public init() {}

    /// Where the data of ConfigMaps cached as metadata alone is read (set by `LiveCluster`).
    public func readConfigMapData(from contents: ConfigMapContents) { configMapContents.withLock { $0 = contents } }

    /// The data of the ConfigMap `namespace/name`; nil when the cluster has no such ConfigMap
    /// (as the informer last saw it). A ConfigMap cached whole answers from the cache; one
    /// cached as metadata is read by name from the API server and kept while it is unchanged.
    public func configMapData(namespace: String, name: String) async throws -> [String: String]? {
        guard let configMap = configMaps.get(namespace: namespace, name: name) else { return nil }
        if let data = configMap.data { return data }
        guard let contents = configMapContents.withLock({ $0 }) else { return [:] }
        return try await contents.data(of: configMap.metadata)
    }

    static let trueLabelIndex = "label=true"
    static let labelKeyIndex = "label-key"
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

    /// The nodes carrying `key` (one of `indexedLabelKeys`), with its value: an index lookup.
    public func nodeLabels(carrying key: String) -> [String: String] {
        precondition(Self.indexedLabelKeys.contains(key), "\(key) is not an indexed node label key")
        var out: [String: String] = [:]
        for node in nodes.byIndex(Self.labelKeyIndex, key) {
            if let name = node.metadata.name, let value = node.metadata.labels?[key] { out[name] = value }
        }
        return out
    }
}
