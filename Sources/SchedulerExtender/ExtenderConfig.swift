import Foundation
import JSON
import KubeClient
import Locality

/// Scoring weights (config file keys of the same names).
public struct ExtenderConfig: Sendable, Equatable {
    /// Weight of a cached byte per tier: memory above SSD above HDD.
    public var memoryWeight = 1.0
    public var ssdWeight = 0.5
    public var hddWeight = 0.25
    /// Points (of 10) added on a node holding a shared-memory copy of a dataset the pod reads by IPC.
    public var sharedMemoryBonus = 2
    /// Topology fallback, when no node holds fresh bytes of the pod's datasets: points per dataset
    /// for a node running the dataset's cache worker, for one in the same zone as a worker, and
    /// in the same region (Stork's node > zone > region ladder, kept weak: nothing is cached yet).
    public var topologyNodeScore = 4
    public var topologyZoneScore = 2
    public var topologyRegionScore = 1

    public init() {}

    func weighted(_ b: TierBytes) -> Double {
        Double(b.memory) * memoryWeight + Double(b.ssd) * ssdWeight + Double(b.hdd) * hddWeight
    }
}
