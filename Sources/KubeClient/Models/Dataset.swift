import Foundation
public import JSON

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
