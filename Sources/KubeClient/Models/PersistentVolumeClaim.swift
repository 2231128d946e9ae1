import Foundation

public struct PersistentVolumeClaim: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    /// Decisions read a claim's labels (Fluid's dataset labels), its volume and its phase.
    public var retained: PersistentVolumeClaim {
        PersistentVolumeClaim(metadata: metadata.identityAndLabels, spec: spec, status: status)
    }

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
