public import KubeClient

/// Read access to the cluster objects dataset resolution needs. `ClusterCache` is one; lookups
/// are in memory (never an API call on the request path).
public protocol DatasetCatalog: Sendable {
    func persistentVolumeClaim(namespace: String, name: String) -> PersistentVolumeClaim?
    func persistentVolume(name: String) -> PersistentVolume?
    func dataset(namespace: String, name: String) -> Dataset?
    func runtime(namespace: String, name: String) -> FluidRuntime?
    func configMap(namespace: String, name: String) -> ConfigMap?
    func namespaceLabels(_ namespace: String) -> [String: String]?
    func daemonSet(namespace: String, name: String) -> DaemonSet?
    /// The labels of any DaemonSet of that name, whatever its labels; nil when there is none
    /// (or the catalog does not know: a cluster-state file).
    func daemonSetLabels(namespace: String, name: String) -> [String: String]?
    /// The cache-worker pods Fluid's chart runs for a runtime, by their `role` label.
    func workerPods(namespace: String, runtime name: String, role: String) -> [Pod]
    /// Whether `daemonSet` answers for the cluster (false: a cluster-state file without DaemonSets).
    var knowsDaemonSets: Bool { get }
    /// Grows with every change to what the lookups above answer, after the change is in place;
    /// what was computed from them while it read R still holds while it reads R.
    var revision: UInt64 { get }
}

extension ClusterCache: DatasetCatalog {
    public func persistentVolumeClaim(namespace: String, name: String) -> PersistentVolumeClaim? {
        persistentVolumeClaims.get(namespace: namespace, name: name)
    }
    public func persistentVolume(name: String) -> PersistentVolume? { persistentVolumes.get(namespace: nil, name: name) }
    public func dataset(namespace: String, name: String) -> Dataset? { datasets.get(namespace: namespace, name: name) }
    public func runtime(namespace: String, name: String) -> FluidRuntime? { runtimes.get(namespace: namespace, name: name) }
    public func configMap(namespace: String, name: String) -> ConfigMap? { configMaps.get(namespace: namespace, name: name) }
    public func namespaceLabels(_ namespace: String) -> [String: String]? {
        namespaces.get(namespace: nil, name: namespace)?.metadata.labels
    }
    public func daemonSet(namespace: String, name: String) -> DaemonSet? { daemonSets.get(namespace: namespace, name: name) }
    public func daemonSetLabels(namespace: String, name: String) -> [String: String]? {
        daemonSetHeaders.get(namespace: namespace, name: name).map { $0.metadata.labels ?? [:] }
    }
}
