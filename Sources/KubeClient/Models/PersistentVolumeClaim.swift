import Foundation

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
