public import Foundation
import Synchronization

/// Where a locality figure comes from.
public enum LocalitySource: String, Sendable, CaseIterable, Hashable {
    /// Fluid's Dataset status spread over its cache nodes (an estimate).
    case fluidStatus = "fluid-status"
    /// Per-node entries of a cluster-state file.
    case clusterState = "cluster-state"
    case vineyard
    case juicefs
    case alluxio

    /// The sources that are engines asked over the network.
    public static let engines: [LocalitySource] = [.vineyard, .juicefs, .alluxio]
}

/// What one source knows about one dataset on one node.
public struct Observation: Sendable, Hashable {
    public var bytes: TierBytes
    /// The engine holds a shared-memory copy on the node (readers there need no copy).
    public var sharedMemory: Bool
    /// When the figure was last confirmed.
    public var confirmedAt: Date
    public var source: LocalitySource
    /// True when the per-node figure is derived (e.g. a dataset total spread over its cache nodes), not reported per node.
    public var estimated: Bool

    public init(bytes: TierBytes, sharedMemory: Bool = false, confirmedAt: Date, source: LocalitySource, estimated: Bool = false) {
        self.bytes = bytes
        self.sharedMemory = sharedMemory
        self.confirmedAt = confirmedAt
        self.source = source
        self.estimated = estimated
    }
}
