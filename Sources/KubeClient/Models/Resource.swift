import Foundation

/// An API resource: where its objects live on the API server.
public struct Resource: Sendable, Hashable, CustomStringConvertible {
    public let group: String
    public let version: String
    public let plural: String
    public let kind: String
    public let namespaced: Bool

    public init(group: String, version: String, plural: String, kind: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
    }

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// The collection path, cluster-wide when `namespace` is nil.
    public func path(namespace: String? = nil, name: String? = nil) -> String {
        var p = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace { p += "/namespaces/\(Self.escape(namespace))" }
        p += "/\(plural)"
        if let name { p += "/\(Self.escape(name))" }
        return p
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? s
    }

    public static let pods = Resource(group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true)
    public static let persistentVolumeClaims = Resource(
        group: "", version: "v1", plural: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespaced: true)
    public static let persistentVolumes = Resource(
        group: "", version: "v1", plural: "persistentvolumes", kind: "PersistentVolume", namespaced: false)
    public static let nodes = Resource(group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false)
    public static let configMaps = Resource(group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true)
    public static let namespaces = Resource(group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false)
    public static let daemonSets = Resource(group: "apps", version: "v1", plural: "daemonsets", kind: "DaemonSet", namespaced: true)
    public static let datasets = Resource(
        group: "data.fluid.io", version: "v1alpha1", plural: "datasets", kind: "Dataset", namespaced: true)
    public static let dataLoads = Resource(
        group: "data.fluid.io", version: "v1alpha1", plural: "dataloads", kind: "DataLoad", namespaced: true)
    public static let leases = Resource(
        group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true)
    public static let events = Resource(group: "", version: "v1", plural: "events", kind: "Event", namespaced: true)

    /// Fluid's runtime kinds, one resource each.
    public static func fluidRuntime(_ kind: FluidRuntimeKind) -> Resource {
        Resource(group: "data.fluid.io", version: "v1alpha1", plural: kind.plural, kind: kind.rawValue, namespaced: true)
    }
}
