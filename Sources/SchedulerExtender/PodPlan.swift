import Foundation
public import JSON
public import KubeClient
public import Locality

/// What the extender needs to know about a pod: its datasets and how it reads each.
public struct PodPlan: Sendable {
    public var namespace: String
    public var name: String
    public var datasets: [ResolvedDataset]
    /// Datasets Locus cannot resolve; they never make a node fail (fail open), only appear in explanations.
    public var problems: [String]

    public var isEmpty: Bool { datasets.isEmpty }

    /// Reads the pod's dataset references and resolves them from the caches (through `memo`,
    /// the resolutions of earlier requests over the same cache revision, when given).
    public static func of(pod: JSONValue, cache: ClusterCache, memo: ResolutionMemo? = nil) -> PodPlan {
        let meta = pod["metadata"]
        let namespace = meta?["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let name = meta?["name"]?.stringValue ?? meta?["generateName"]?.stringValue ?? ""
        let found = DatasetResolver(catalog: cache, memo: memo).resolve(pod: pod, namespace: namespace)
        return PodPlan(namespace: namespace, name: name, datasets: found.datasets, problems: found.problemTexts)
    }
}
