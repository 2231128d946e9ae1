import Foundation
public import JSON
public import KubeClient
public import Locality
public import SchedulerExtender

/// Whether a gated pod's datasets are warm where it would land: the node the extender would
/// pick for it now (filter, then the best score) holds each dataset's threshold.
public struct WarmPlacement: Sendable {
    public let cache: ClusterCache
    public let extender: ExtenderConfig

    public init(cache: ClusterCache, extender: ExtenderConfig) {
        self.cache = cache
        self.extender = extender
    }

    /// For each dataset of `wait` warm on the picked node, a sentence saying so.
    public func warmDatasets(pod: JSONValue, wait: WarmWait, locality: LocalityIndex.Snapshot) -> [DatasetRef: String] {
        let nodes = cache.nodes.list().compactMap(\.metadata.name)
        let verdicts = Extender.verdicts(ExtenderArgs(pod: pod, nodeNames: nodes), cluster: cache, locality: locality, config: extender)
            .verdicts
        guard let picked = verdicts.first(where: { $0.failure == nil }), picked.score > 0 else { return [:] }
        var warm: [DatasetRef: String] = [:]
        for ref in wait.datasets {
            let total = cache.dataset(namespace: ref.namespace, name: ref.name)?.status?.ufsTotal.flatMap(ByteQuantity.parse)
            let bytes = Warmth.bytes(of: ref, on: picked.node, in: locality)
            guard let needed = wait.threshold.bytes(ofTotal: total.map { max($0, 1) }), bytes >= needed else { continue }
            warm[ref] =
                "\(ref): \(ByteQuantity.format(bytes)) cached on \(picked.node), the node the extender picks (threshold "
                + "\(wait.threshold)\(wait.threshold.isShare ? " of \(ByteQuantity.format(total ?? 0))" : ""))"
        }
        return warm
    }
}
