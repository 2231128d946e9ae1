import Foundation
import JSON

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

    /// Fluid's runtime kinds, one resource each.
    public static func fluidRuntime(_ kind: FluidRuntimeKind) -> Resource {
        Resource(group: "data.fluid.io", version: "v1alpha1", plural: kind.plural, kind: kind.rawValue, namespaced: true)
    }
}

/// A Kubernetes object Locus reads: decodable from the API server's JSON, tolerant of unknown fields.
public protocol KubeObject: Codable, Sendable {
    var metadata: ObjectMeta { get }
}

public struct OwnerReference: Codable, Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
}

public struct ObjectMeta: Codable, Sendable, Hashable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?

    public init(
        name: String? = nil, namespace: String? = nil, uid: String? = nil, resourceVersion: String? = nil,
        labels: [String: String]? = nil, annotations: [String: String]? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.labels = labels
        self.annotations = annotations
    }

    /// `namespace/name`, or `name` for cluster-scoped objects: the store key.
    public var key: String {
        if let namespace, !namespace.isEmpty { return "\(namespace)/\(name ?? "")" }
        return name ?? ""
    }
}

public struct ListMeta: Codable, Sendable, Hashable {
    public var resourceVersion: String?
    public var `continue`: String?
    public var remainingItemCount: Int64?
}

/// A list response: `{"kind": "...List", "metadata": {...}, "items": [...]}`.
public struct ObjectList<T: Decodable & Sendable>: Decodable, Sendable {
    public var kind: String?
    public var apiVersion: String?
    public var metadata: ListMeta
    public var items: [T]

    enum CodingKeys: String, CodingKey { case kind, apiVersion, metadata, items }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        metadata = try c.decodeIfPresent(ListMeta.self, forKey: .metadata) ?? ListMeta()
        // The API server sends `"items": null` for an empty list of some resources.
        items = try c.decodeIfPresent([T].self, forKey: .items) ?? []
    }

    public init(metadata: ListMeta, items: [T]) {
        self.metadata = metadata
        self.items = items
    }
}

/// `meta/v1 Status`, the body of every API error and of a watch ERROR event.
public struct Status: Codable, Sendable, Hashable, Error {
    public var kind: String?
    public var apiVersion: String?
    public var status: String?
    public var message: String?
    public var reason: String?
    public var code: Int?

    public init(status: String? = "Failure", message: String?, reason: String?, code: Int?) {
        self.kind = "Status"
        self.apiVersion = "v1"
        self.status = status
        self.message = message
        self.reason = reason
        self.code = code
    }
}

// MARK: - core/v1

public struct Pod: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: PodSpec?
    public var status: PodStatus?

    public struct PodSpec: Codable, Sendable, Hashable {
        public var nodeName: String?
        public var schedulerName: String?
        public var serviceAccountName: String?
        public var nodeSelector: [String: String]?
        public var volumes: [Volume]?
        public var containers: [Container]
        public var initContainers: [Container]?
        public var hostNetwork: Bool?
    }

    public struct PodStatus: Codable, Sendable, Hashable {
        public var phase: String?
        /// The pod's IP (the node's own with `hostNetwork`).
        public var podIP: String?
        public var hostIP: String?
    }

    public struct Container: Codable, Sendable, Hashable {
        public var name: String
        public var image: String?
        public var ports: [ContainerPort]?
    }

    public struct ContainerPort: Codable, Sendable, Hashable {
        public var name: String?
        public var containerPort: Int
        public var hostPort: Int?
        public var `protocol`: String?
    }

    public struct Volume: Codable, Sendable, Hashable {
        public var name: String
        public var persistentVolumeClaim: PVCSource?
        public var hostPath: HostPathSource?
        public var configMap: ConfigMapSource?

        public struct PVCSource: Codable, Sendable, Hashable {
            public var claimName: String
            public var readOnly: Bool?
        }
        public struct HostPathSource: Codable, Sendable, Hashable {
            public var path: String
            public var type: String?
        }
        public struct ConfigMapSource: Codable, Sendable, Hashable {
            public var name: String?
        }
    }
}

/// A pod decoded twice from the same bytes: the typed view for decisions and the full JSON
/// value, so that fields Locus does not model are never lost.
public struct RawPod: KubeObject {
    public var pod: Pod
    public var json: JSONValue
    public var metadata: ObjectMeta { pod.metadata }

    public init(from decoder: any Decoder) throws {
        json = try JSONValue(from: decoder)
        pod = try Pod(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }
}

public struct PersistentVolumeClaim: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var volumeName: String?
        public var storageClassName: String?
        public var accessModes: [String]?
    }
    public struct Status: Codable, Sendable, Hashable {
        public var phase: String?
    }

    public init(metadata: ObjectMeta, spec: Spec? = nil, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

public struct PersistentVolume: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec?

    public struct Spec: Codable, Sendable, Hashable {
        public var csi: CSI?
        public var claimRef: ClaimRef?
    }
    public struct CSI: Codable, Sendable, Hashable {
        public var driver: String
        public var volumeHandle: String?
        public var volumeAttributes: [String: String]?
    }
    public struct ClaimRef: Codable, Sendable, Hashable {
        public var name: String?
        public var namespace: String?
    }
}

public struct Node: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var unschedulable: Bool?
    }
    public struct Status: Codable, Sendable, Hashable {
        public var capacity: [String: String]?
        public var allocatable: [String: String]?
        public var addresses: [Address]?
        public var conditions: [Condition]?
    }
    public struct Address: Codable, Sendable, Hashable {
        public var type: String
        public var address: String
    }
    public struct Condition: Codable, Sendable, Hashable {
        public var type: String
        public var status: String
    }

    public init(metadata: ObjectMeta, spec: Spec? = nil, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public var isReady: Bool {
        status?.conditions?.first(where: { $0.type == "Ready" })?.status == "True"
    }
}

public struct ConfigMap: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var data: [String: String]?

    public init(metadata: ObjectMeta, data: [String: String]? = nil) {
        self.metadata = metadata
        self.data = data
    }
}

public struct Namespace: KubeObject, Hashable {
    public var metadata: ObjectMeta

    public init(metadata: ObjectMeta) { self.metadata = metadata }
}

// MARK: - data.fluid.io/v1alpha1

public struct Dataset: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var mounts: [Mount]?
        /// `Exclusive` or `Shared` (Fluid's default).
        public var placement: String?
        public var accessModes: [String]?
        public var nodeAffinity: JSONValue?
        public var tolerations: JSONValue?
        public var runtimes: [RuntimeRef]?
    }
    public struct Mount: Codable, Sendable, Hashable {
        public var mountPoint: String
        public var name: String?
        public var path: String?
        public var readOnly: Bool?
        public var shared: Bool?
    }
    public struct RuntimeRef: Codable, Sendable, Hashable {
        public var name: String?
        public var namespace: String?
        public var type: String?
        public var category: String?
        public var masterReplicas: Int?
    }
    public struct Status: Codable, Sendable, Hashable {
        /// `Bound`, `NotBound`, `Failed`, …
        public var phase: String?
        public var runtimes: [RuntimeRef]?
        public var cacheStates: [String: String]?
        public var ufsTotal: String?
        public var fileNum: String?
    }

    public init(metadata: ObjectMeta, spec: Spec? = nil, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// Fluid's runtime kinds. Each has its own CRD; Locus reads the fields they share.
public enum FluidRuntimeKind: String, Codable, Sendable, CaseIterable, Hashable {
    case alluxio = "AlluxioRuntime"
    case juicefs = "JuiceFSRuntime"
    case jindo = "JindoRuntime"
    case goosefs = "GooseFSRuntime"
    case efc = "EFCRuntime"
    case thin = "ThinRuntime"
    case vineyard = "VineyardRuntime"

    public var plural: String { rawValue.lowercased().replacingOccurrences(of: "runtime", with: "runtimes") }
    /// The engine type as Fluid writes it in `Dataset.status.runtimes[].type`.
    public var engineType: String {
        switch self {
        case .alluxio: "alluxio"
        case .juicefs: "juicefs"
        case .jindo: "jindo"
        case .goosefs: "goosefs"
        case .efc: "efc"
        case .thin: "thin"
        case .vineyard: "vineyard"
        }
    }

    public init?(engineType: String) {
        guard let k = Self.allCases.first(where: { $0.engineType == engineType.lowercased() }) else { return nil }
        self = k
    }
}

/// Any Fluid runtime. Engine-specific sections (`fuse`, `worker`, `master`) are kept as JSON values.
public struct FluidRuntime: KubeObject, Hashable {
    public var kind: String?
    public var apiVersion: String?
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var replicas: Int?
        public var fuse: JSONValue?
        public var worker: JSONValue?
        public var master: JSONValue?
        public var tieredstore: TieredStore?
    }
    public struct TieredStore: Codable, Sendable, Hashable {
        public var levels: [Level]?
    }
    public struct Level: Codable, Sendable, Hashable {
        public var mediumtype: String?
        public var path: String?
        public var quota: String?
    }
    public struct Status: Codable, Sendable, Hashable {
        public var workerPhase: String?
        public var fusePhase: String?
        public var workerNumberReady: Int?
        public var fuseNumberReady: Int?
        public var selector: String?
        public var valueFile: String?
        public var cacheAffinity: JSONValue?
    }

    public var runtimeKind: FluidRuntimeKind? { kind.flatMap(FluidRuntimeKind.init(rawValue:)) }
}

// MARK: - apps/v1

/// A DaemonSet, reduced to what Locus copies from it: the pod template's containers and volumes,
/// kept as JSON so that no field of the container is lost.
public struct DaemonSet: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec?

    public struct Spec: Codable, Sendable, Hashable {
        public var template: Template?
    }
    public struct Template: Codable, Sendable, Hashable {
        public var spec: TemplateSpec?
    }
    public struct TemplateSpec: Codable, Sendable, Hashable {
        public var containers: [JSONValue]?
        public var volumes: [JSONValue]?
    }

    public init(metadata: ObjectMeta, spec: Spec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }

    /// The pod template's containers and volumes.
    public var containers: [JSONValue] { spec?.template?.spec?.containers ?? [] }
    public var volumes: [JSONValue] { spec?.template?.spec?.volumes ?? [] }
}
