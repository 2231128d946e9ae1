import Foundation
public import KubeClient
public import Locality

/// What `/filter` decided for one request.
public struct FilterDecision: Sendable {
    public var plan: PodPlan
    /// The nodes that pass and those that cannot serve the pod; nil when no node of the request
    /// can fail it (the answer is then the names as sent).
    public var result: FilterResult?

    /// For metrics: `no_datasets`, `no_node` (every node filtered out) or `ok`.
    public func outcome(nodeCount: Int) -> String {
        if plan.isEmpty { return "no_datasets" }
        return (result?.passed.count ?? nodeCount) == 0 ? "no_node" : "ok"
    }
}

/// What `/prioritize` decided for one request.
public struct PrioritizeDecision: Sendable {
    public var plan: PodPlan
    /// In the request's node order.
    public var scores: [Int]
    public var basis: Extender.Basis
}

/// One entry per route, as `Admission.review` is for `/mutate`: the routes answer with these, and
/// `locus score` and the warm-up controller's placement are built on them, so there is one path
/// from a request to its filter and its scores.
extension Extender {
    /// `/filter`: which of the request's nodes can serve its pod, from the cluster's caches.
    public static func filter(_ args: ExtenderArgs, cluster: ClusterCache, memo: ResolutionMemo? = nil) -> FilterDecision {
        let plan = PodPlan.of(pod: args.pod, cache: cluster, memo: memo)
        let index = NodeView.index(cluster, given: args.nodeLabels)
        if let index, passesEverywhere(plan, index: index) { return FilterDecision(plan: plan, result: nil) }
        let result = filter(plan, nodes: args.nodeNames, labels: NodeView.labels(cluster, given: args.nodeLabels), index: index)
        return FilterDecision(plan: plan, result: result)
    }

    /// `/prioritize`: each of the request's nodes scored 0–10 by the pod's cached bytes there.
    public static func prioritize(
        _ args: ExtenderArgs, cluster: ClusterCache, locality: LocalityIndex.Snapshot, config: ExtenderConfig,
        memo: ResolutionMemo? = nil
    ) -> PrioritizeDecision {
        let plan = PodPlan.of(pod: args.pod, cache: cluster, memo: memo)
        let (scores, basis) = scores(
            plan, nodes: args.nodes, locality: locality, config: config, view: NodeView.cluster(cluster, given: args.nodeLabels))
        return PrioritizeDecision(plan: plan, scores: scores, basis: basis)
    }

    /// Both routes for one pod, as kube-scheduler calls them (filter, then prioritize over the
    /// nodes that pass), with what each score rests on: `locus score`, and where the warm-up
    /// controller expects a pod to land. Passing nodes come first, best score first, then by name.
    public static func verdicts(
        _ args: ExtenderArgs, cluster: ClusterCache, locality: LocalityIndex.Snapshot, config: ExtenderConfig
    ) -> (plan: PodPlan, verdicts: [NodeVerdict]) {
        let filtered = filter(args, cluster: cluster)
        let passed = filtered.result?.passed ?? args.nodeNames
        var passing = ExtenderArgs(pod: args.pod, nodeNames: passed)
        passing.nodeLabels = args.nodeLabels
        let prioritized = prioritize(passing, cluster: cluster, locality: locality, config: config)
        var verdicts = details(
            filtered.plan, nodes: passed, scores: prioritized.scores, basis: prioritized.basis, locality: locality, config: config,
            view: NodeView.cluster(cluster, given: args.nodeLabels))
        for (failures, unresolvable) in [(filtered.result?.failed ?? [:], false), (filtered.result?.unresolvable ?? [:], true)] {
            for (node, reason) in failures {
                verdicts.append(
                    NodeVerdict(node: node, failure: reason, unresolvable: unresolvable, score: 0, bytes: [:], sharedMemory: []))
            }
        }
        verdicts.sort { ($0.failure == nil ? 0 : 1, -$0.score, $0.node) < ($1.failure == nil ? 0 : 1, -$1.score, $1.node) }
        return (filtered.plan, verdicts)
    }
}
