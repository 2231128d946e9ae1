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

    /// Every node the cluster cache knows, once per pass over the gated pods.
    public func nodeNames() -> [String] { cache.nodes.list().compactMap(\.metadata.name) }

    /// The node the extender would pick for `pod` among `nodes`: `/filter`, then the best score of
    /// `/prioritize` over the nodes that pass (ties to the first name); nil when none scores above 0.
    func pickedNode(pod: JSONValue, nodes: [String], locality: LocalityIndex.Snapshot) -> String? {
        let filtered = Extender.filter(ExtenderArgs(pod: pod, nodeNames: nodes), cluster: cache)
        let passed = filtered.result?.passed ?? nodes
        let scores = Extender.prioritize(
            ExtenderArgs(pod: pod, nodeNames: passed), cluster: cache, locality: locality, config: extender
        ).scores
        guard let best = zip(passed, scores).max(by: { ($0.1, $1.0) < ($1.1, $0.0) }), best.1 > 0 else { return nil }
        return best.0
    }

    /// For each dataset of `wait` warm on the node the extender would pick among `nodes`, a
    /// sentence saying so.
    public func warmDatasets(pod: JSONValue, wait: WarmWait, nodes: [String], locality: LocalityIndex.Snapshot) -> [DatasetRef: String] {
        guard let picked = pickedNode(pod: pod, nodes: nodes, locality: locality) else { return [:] }
        var warm: [DatasetRef: String] = [:]
        for ref in wait.datasets {
            let total = cache.dataset(namespace: ref.namespace, name: ref.name)?.status?.ufsTotal.flatMap(ByteQuantity.parse)
            let bytes = Warmth.bytes(of: ref, on: picked, in: locality)
            guard let needed = wait.threshold.bytes(ofTotal: total.map { max($0, 1) }), bytes >= needed else { continue }
            warm[ref] =
                "\(ref): \(ByteQuantity.format(bytes)) cached on \(picked), the node the extender picks (threshold "
                + "\(wait.threshold)\(wait.threshold.isShare ? " of \(ByteQuantity.format(total ?? 0))" : ""))"
        }
        return warm
    }
}
