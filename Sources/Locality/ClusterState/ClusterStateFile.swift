import Foundation
public import KubeClient
import Yams

/// A cluster-state file, what `locus serve --cluster-state`, `locus mutate/score --cluster-state`
/// and the built-in example are written in: lists of API objects as `kubectl get -o yaml` shows
/// them, and per-node cache bytes (`cache:`) that stand in for the engines when there is no cluster.
///
/// It lives in Locality, not KubeClient, because its `cache:` section is about datasets and where
/// their bytes are, which KubeClient must not know; the objects are KubeClient's models.
///
/// The text is composed once and both parts are decoded from that one document; a value of this
/// type has passed every check that later lookups rely on.
public struct ClusterStateFile: Sendable {
    /// Where the text came from, as error messages name it (a path, or e.g. "built-in example").
    public let source: String
    public let datasets: [Dataset]?
    public let runtimes: [FluidRuntime]?
    public let persistentVolumeClaims: [PersistentVolumeClaim]?
    public let persistentVolumes: [PersistentVolume]?
    public let nodes: [KubeClient.Node]?
    public let configMaps: [ConfigMap]?
    public let namespaces: [Namespace]?
    /// nil when the file has no `daemonSets` list (FUSE sidecars are then built from `spec.fuse`).
    public let daemonSets: [DaemonSet]?
    /// The `cache:` entries: bytes of datasets cached on nodes.
    public let cacheEntries: [StaticCacheEntry]

    /// The file at `path`.
    public static func read(path: String) throws -> ClusterStateFile {
        let data = try FileAccess.read(path, what: "cluster state")
        return try ClusterStateFile(yaml: String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses and checks `yaml`; errors name `source`.
    public init(yaml: String, source: String) throws {
        self.source = source
        let document: Yams.Node
        do {
            document = try Yams.compose(yaml: yaml) ?? Yams.Node.mapping([:])
        } catch {
            throw ClusterStateError("cluster state \(source): \(KubeConfig.shortReason(error))")
        }
        let objects: ObjectLists
        do {
            objects = try YAMLDecoder().decode(ObjectLists.self, from: document)
        } catch {
            throw ClusterStateError("cluster state \(source): \(KubeConfig.shortReason(error))")
        }
        func check<T: KubeObject>(_ objs: [T]?, _ what: String, namespaced: Bool) throws -> [T]? {
            var seen = Set<String>()
            for (i, o) in (objs ?? []).enumerated() {
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
        runtimes = try check(objects.runtimes, "runtimes", namespaced: true)
        for r in runtimes ?? [] where r.runtimeKind == nil {
            let kinds = FluidRuntimeKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw ClusterStateError(
                "cluster state \(source): runtime \(r.metadata.key) has kind \(r.kind ?? "(none)"); expected one of \(kinds)")
        }
        datasets = try check(objects.datasets, "datasets", namespaced: true)
        persistentVolumeClaims = try check(objects.persistentVolumeClaims, "persistentVolumeClaims", namespaced: true)
        persistentVolumes = try check(objects.persistentVolumes, "persistentVolumes", namespaced: false)
        nodes = try check(objects.nodes, "nodes", namespaced: false)
        configMaps = try check(objects.configMaps, "configMaps", namespaced: true)
        namespaces = try check(objects.namespaces, "namespaces", namespaced: false)
        daemonSets = try check(objects.daemonSets, "daemonSets", namespaced: true)

        struct CacheSection: Decodable { var cache: [StaticCacheEntry]? }
        do {
            cacheEntries = try YAMLDecoder().decode(CacheSection.self, from: document).cache ?? []
        } catch {
            throw ClusterStateError("cluster state \(source): cache: \(KubeConfig.shortReason(error))")
        }
        do {
            _ = try StaticCacheEntry.picture(cacheEntries, now: Date())
        } catch let e as ClusterStateError {
            throw ClusterStateError("cluster state \(source): \(e.description)")
        }
    }

    /// The object lists as the file spells them.
    private struct ObjectLists: Decodable {
        var datasets: [Dataset]?
        var runtimes: [FluidRuntime]?
        var persistentVolumeClaims: [PersistentVolumeClaim]?
        var persistentVolumes: [PersistentVolume]?
        var nodes: [KubeClient.Node]?
        var configMaps: [ConfigMap]?
        var namespaces: [Namespace]?
        var daemonSets: [DaemonSet]?
    }

    /// A cluster cache holding the file's objects.
    public func makeClusterCache() -> ClusterCache {
        let cache = ClusterCache()
        _ = cache.datasets.replace(with: datasets ?? [])
        _ = cache.runtimes.replace(with: runtimes ?? [])
        _ = cache.persistentVolumeClaims.replace(with: persistentVolumeClaims ?? [])
        _ = cache.persistentVolumes.replace(with: persistentVolumes ?? [])
        _ = cache.nodes.replace(with: nodes ?? [])
        _ = cache.configMaps.replace(with: configMaps ?? [])
        _ = cache.namespaces.replace(with: namespaces ?? [])
        _ = cache.daemonSets.replace(with: daemonSets ?? [])
        cache.knowsDaemonSets = daemonSets != nil
        return cache
    }
}
