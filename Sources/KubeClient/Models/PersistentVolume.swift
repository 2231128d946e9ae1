import Foundation

public struct PersistentVolume: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec?

    /// Decisions read a volume's CSI attributes (Fluid's `fluid_path`) and its claim.
    public var retained: PersistentVolume { PersistentVolume(metadata: metadata.identityAndLabels, spec: spec) }

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
