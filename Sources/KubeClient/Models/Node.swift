import Foundation

/// A node. Nodes are listed and watched as metadata alone: decisions read a node's name and
/// labels, and the cache keeps nothing else (`retained`).
public struct Node: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    /// Name, version and labels, whose keys and values are shared between nodes (`LabelInterner`).
    public var retained: Node {
        var meta = metadata.identityAndLabels
        meta.labels = LabelInterner.shared.intern(meta.labels, name: meta.name)
        return Node(metadata: meta)
    }

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
