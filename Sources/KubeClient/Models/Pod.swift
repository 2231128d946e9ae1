import Foundation
public import JSON

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
        public var command: [String]?
        public var args: [String]?
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
