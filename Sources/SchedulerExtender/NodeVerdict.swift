import Foundation
public import Locality

/// One node's verdict and score, with the bytes behind it.
public struct NodeVerdict: Sendable, Equatable {
    public var node: String
    /// nil when the node passes the filter.
    public var failure: String?
    public var unresolvable: Bool
    public var score: Int
    /// Fresh cached bytes per dataset on this node (unknown figures are absent).
    public var bytes: [DatasetRef: TierBytes]
    /// Datasets read by IPC that have a shared-memory copy on this node.
    public var sharedMemory: [DatasetRef]
    /// When the score came from the topology fallback: why, per dataset.
    public var topology: [String]

    public init(
        node: String, failure: String?, unresolvable: Bool, score: Int, bytes: [DatasetRef: TierBytes], sharedMemory: [DatasetRef],
        topology: [String] = []
    ) {
        self.node = node
        self.failure = failure
        self.unresolvable = unresolvable
        self.score = score
        self.bytes = bytes
        self.sharedMemory = sharedMemory
        self.topology = topology
    }
}
