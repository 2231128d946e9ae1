import Foundation

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
