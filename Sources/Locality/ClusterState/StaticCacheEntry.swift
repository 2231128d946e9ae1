public import Foundation
import KubeClient

/// Per-node cache bytes written in a cluster-state file (`cache:`), for running with no cluster.
public struct StaticCacheEntry: Decodable, Sendable {
    public var node: String
    /// `namespace/name`.
    public var dataset: String
    public var memory: String?
    public var ssd: String?
    public var hdd: String?
    public var sharedMemory: Bool?

    /// The entries as a picture; entries naming malformed datasets or byte amounts are errors.
    public static func picture(_ entries: [StaticCacheEntry], now: Date) throws -> LocalityIndex.Picture {
        var picture: LocalityIndex.Picture = [:]
        for (i, e) in entries.enumerated() {
            guard let ref = DatasetRef(parsing: e.dataset, defaultNamespace: ""), !ref.namespace.isEmpty else {
                throw ClusterStateError("cache[\(i)]: dataset \"\(e.dataset)\" must be namespace/name")
            }
            var bytes = TierBytes()
            for (tier, text) in [(Tier.memory, e.memory), (.ssd, e.ssd), (.hdd, e.hdd)] {
                guard let text else { continue }
                guard let b = ByteQuantity.parse(text) else {
                    throw ClusterStateError("cache[\(i)]: \(tier.rawValue) \"\(text)\" is not a byte amount")
                }
                bytes[tier] = b
            }
            picture[e.node, default: [:]][ref] = Observation(
                bytes: bytes, sharedMemory: e.sharedMemory ?? false, confirmedAt: now, source: .clusterState)
        }
        return picture
    }
}
