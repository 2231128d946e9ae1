import Foundation
import JSON
public import KubeClient
public import Locality

/// What the filter asks of the node cache, as index lookups: which of the named nodes it knows
/// (under one lock), the nodes carrying a label `"true"`, and the nodes Fluid's Exclusive
/// placement holds (`fluid_exclusive`, with its value). With these the filter looks at a node
/// only when a rule can fail it, instead of reading every node's labels.
public struct NodeIndex: Sendable {
    public var known: @Sendable ([String]) -> [Bool]
    public var labelledTrue: @Sendable (String) -> Set<String>
    public var exclusiveHolders: @Sendable () -> [String: String]

    public init(
        known: @escaping @Sendable ([String]) -> [Bool], labelledTrue: @escaping @Sendable (String) -> Set<String>,
        exclusiveHolders: @escaping @Sendable () -> [String: String]
    ) {
        self.known = known
        self.labelledTrue = labelledTrue
        self.exclusiveHolders = exclusiveHolders
    }
}

/// What the extender may know about nodes besides cached bytes: their labels (nil for a node
/// Locus does not know) and which nodes run a dataset's cache workers (Fluid's node labels).
public struct NodeView: Sendable {
    public var labels: @Sendable (String) -> [String: String]?
    public var cacheNodes: @Sendable (ResolvedDataset) -> [String]

    public init(labels: @escaping @Sendable (String) -> [String: String]?, cacheNodes: @escaping @Sendable (ResolvedDataset) -> [String]) {
        self.labels = labels
        self.cacheNodes = cacheNodes
    }

    /// Labels from `given` (a NodeList kube-scheduler sent) or the node cache; cache workers from the node cache.
    public static func cluster(_ cache: ClusterCache, given: [String: [String: String]]? = nil) -> NodeView {
        NodeView(labels: labels(cache, given: given), cacheNodes: { cache.cacheNodes(of: $0.dataset) })
    }

    /// Node labels: from the NodeList when kube-scheduler sent one (`given`), else from the node
    /// cache; nil for a node neither knows (the filter lets it pass).
    public static func labels(
        _ cache: ClusterCache, given: [String: [String: String]]? = nil
    ) -> @Sendable (String) -> [String: String]? {
        if let given { return { given[$0] } }
        let nodes = cache.nodes
        return { name in nodes.get(namespace: nil, name: name).map { $0.metadata.labels ?? [:] } }
    }

    static let zoneKeys = ["topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"]

    /// The node cache's indexes, for a filter that reads no node's labels one by one; nil when
    /// kube-scheduler sent the nodes themselves (`given`).
    public static func index(_ cache: ClusterCache, given: [String: [String: String]]? = nil) -> NodeIndex? {
        guard given == nil else { return nil }
        return NodeIndex(
            known: { cache.nodes.contains($0) }, labelledTrue: { Set(cache.unorderedNodeNames(labelledTrue: $0)) },
            exclusiveHolders: { cache.nodeLabels(carrying: Keys.fluidExclusive) })
    }
    static let regionKeys = ["topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region"]

    static func value(_ labels: [String: String]?, _ keys: [String]) -> String? {
        for k in keys { if let v = labels?[k], !v.isEmpty { return v } }
        return nil
    }
}
