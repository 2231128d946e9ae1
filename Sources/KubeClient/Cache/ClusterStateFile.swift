import Foundation
import Logging
import Synchronization
public import Yams

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
