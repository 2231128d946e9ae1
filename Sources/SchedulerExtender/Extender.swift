import Foundation
import JSON
import KubeClient
public import Locality

/// Filter and prioritize: pure functions over the pod plan, node labels and a locality snapshot.
public enum Extender {
    /// Nodes that cannot serve the pod at all, with a reason a person understands.
    /// `labels(node)` is nil for a node Locus does not know: it passes (fail open).
    /// With `index` (and no rule that reads arbitrary labels: a serverful FUSE node selector) the
    /// same verdicts come from the node cache's indexes, without reading each node's labels.
    public static func filter(
        _ plan: PodPlan, nodes: [String], labels: (String) -> [String: String]?, index: NodeIndex? = nil
    ) -> FilterResult {
        guard !plan.isEmpty else { return FilterResult(passed: nodes) }
        let rules = plan.datasets.map(NodeRule.init)
        if let index, rules.allSatisfy({ $0.fuseSelector.isEmpty }) { return indexedFilter(rules, nodes: nodes, index: index) }
        var result = FilterResult(passed: [])
        result.passed.reserveCapacity(nodes.count)
        for node in nodes {
            guard let l = labels(node) else {
                result.passed.append(node)
                continue
            }
            if let reason = failure(rules, node: node, label: { l[$0] }) {
                result.unresolvable[node] = reason
            } else {
                result.passed.append(node)
            }
        }
        return result
    }

    /// `filter` through the node cache's indexes: a node is looked at only if a rule can fail it
    /// (it is held exclusively, or an IPC dataset needs a worker there); unknown nodes pass.
    static func indexedFilter(_ rules: [NodeRule], nodes: [String], index: NodeIndex) -> FilterResult {
        let holders = index.exclusiveHolders()
        var workers: [String: Set<String>] = [:]
        for rule in rules where rule.needsWorker && workers[rule.cacheLabel] == nil {
            workers[rule.cacheLabel] = index.labelledTrue(rule.cacheLabel)
        }
        guard !holders.isEmpty || !workers.isEmpty else { return FilterResult(passed: nodes) }
        let known = workers.isEmpty ? nil : index.known(nodes)
        var result = FilterResult(passed: [])
        result.passed.reserveCapacity(nodes.count)
        for (i, node) in nodes.enumerated() {
            let holder = holders.isEmpty ? nil : holders[node]
            let mustCheck = holder != nil || known?[i] == true
            guard mustCheck else {
                result.passed.append(node)
                continue
            }
            let reason = failure(rules, node: node) { key in
                if key == Keys.fluidExclusive { return holder }
                return workers[key].map { $0.contains(node) ? "true" : nil } ?? nil
            }
            if let reason { result.unresolvable[node] = reason } else { result.passed.append(node) }
        }
        return result
    }

    /// True when no node can fail the pod (no datasets, or no rule that fails a node has anything
    /// to fail it on: no node held exclusively, no IPC dataset, no FUSE node selector): `/filter`
    /// then passes the names as sent without looking at any.
    public static func passesEverywhere(_ plan: PodPlan, index: NodeIndex) -> Bool {
        guard !plan.isEmpty else { return true }
        let rules = plan.datasets.map(NodeRule.init)
        return rules.allSatisfy { !$0.needsWorker && $0.fuseSelector.isEmpty } && index.exclusiveHolders().isEmpty
    }

    /// What one dataset asks of a node, worked out once per request rather than once per node
    /// (a class: the loop over thousands of nodes must not copy the dataset each time).
    final class NodeRule: Sendable {
        let dataset: ResolvedDataset
        /// Fluid's label on nodes that run the dataset's cache worker.
        let cacheLabel: String
        /// The pod reads the dataset over a shared-memory socket: only nodes with a worker will do.
        let needsWorker: Bool
        /// Fluid's `Exclusive` placement value this dataset would write.
        let exclusiveValue: String
        /// The node selector of the runtime's FUSE, when the pod mounts the dataset's PVC (serverful).
        let fuseSelector: [(key: String, value: String)]

        init(_ d: ResolvedDataset) {
            dataset = d
            cacheLabel = d.cacheNodeLabel
            needsWorker = d.access.isSharedMemory
            exclusiveValue = "\(d.ref.namespace)_\(d.ref.name)"
            if case .fuse = d.access, !d.volumes.isEmpty,
                let selector = d.runtime.spec?.fuse?["nodeSelector"]?.objectValue?.compactMapValues(\.stringValue)
            {
                fuseSelector = selector.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
            } else {
                fuseSelector = []
            }
        }
    }

    /// Why `node` cannot serve the pod, or nil. Every rule reads Fluid's labels from the
    /// informers, never engine figures, so stale engine data cannot make a pod unschedulable.
    /// `label(key)` reads one of the node's labels.
    static func failure(_ rules: [NodeRule], node: String, label: (String) -> String?) -> String? {
        for rule in rules {
            if rule.needsWorker, label(rule.cacheLabel) != "true" {
                let d = rule.dataset
                return
                    "node \(node) runs no \(d.kind.rawValue) worker for dataset \(d.ref) (no label \(rule.cacheLabel)=true); the pod "
                    + "reads it over a shared-memory socket, which exists only on such nodes"
            }
            if let holder = label(Keys.fluidExclusive), !holder.isEmpty, holder != rule.exclusiveValue {
                let d = rule.dataset
                return
                    "node \(node) is held exclusively by dataset \(holder.replacingOccurrences(of: "_", with: "/")) (Fluid placement "
                    + "Exclusive), so dataset \(d.ref) cannot be cached there"
            }
            if !rule.fuseSelector.isEmpty {
                let missing = rule.fuseSelector.filter { label($0.key) != $0.value }
                if !missing.isEmpty {
                    let d = rule.dataset
                    let want = missing.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                    return
                        "the FUSE of \(d.kind.rawValue) \(d.runtime.metadata.namespace ?? "")/\(d.runtime.metadata.name ?? "") (serving "
                        + "\(d.ref) through its PVC) runs only on nodes with \(want); node \(node) lacks it"
                }
            }
        }
        return nil
    }

    /// Scores 0…10: weighted cached bytes of the pod's datasets relative to the best node, plus
    /// the shared-memory bonus. When no node holds fresh bytes of any of them, `view` (if given)
    /// scores by topology instead: a node running a dataset's cache worker, then the same zone,
    /// then the same region; all 0 when that says nothing either (the default scheduler decides).
    /// `detailed: false` (the request path) leaves `bytes`, `sharedMemory` and `topology` empty.
    public static func prioritize(
        _ plan: PodPlan, nodes: [String], locality: LocalityIndex.Snapshot, config: ExtenderConfig, detailed: Bool = true,
        view: NodeView? = nil
    ) -> [NodeVerdict] {
        let (scores, basis) = scores(plan, nodes: NodeNameList(nodes), locality: locality, config: config, view: view)
        guard detailed else {
            return nodes.indices.map {
                NodeVerdict(node: nodes[$0], failure: nil, unresolvable: false, score: scores[$0], bytes: [:], sharedMemory: [])
            }
        }
        return details(plan, nodes: nodes, scores: scores, basis: basis, locality: locality, config: config, view: view)
    }

    /// Verdicts of nodes already scored (`scores`, the one scoring path), with what each score
    /// rests on: the fresh bytes per dataset and the shared-memory copies, or the topology.
    static func details(
        _ plan: PodPlan, nodes: [String], scores: [Int], basis: Basis, locality: LocalityIndex.Snapshot, config: ExtenderConfig,
        view: NodeView?
    ) -> [NodeVerdict] {
        var verdicts = nodes.indices.map {
            NodeVerdict(node: nodes[$0], failure: nil, unresolvable: false, score: scores[$0], bytes: [:], sharedMemory: [])
        }
        guard !plan.isEmpty else { return verdicts }
        if basis == .topology, let view,
            let topology = topologyScores(plan, nodes: nodes, view: view, config: config, detailed: true)
        {
            for i in verdicts.indices { verdicts[i].topology = topology[i].why }
        }
        let refs = plan.datasets.map(\.ref)
        let ipc = plan.datasets.map(\.access.isSharedMemory)
        let numbered = locality.numbered(refs)
        var found = [Observation?](repeating: nil, count: refs.count)
        locality.reading { reader in
            for i in verdicts.indices {
                reader.observations(node: nodes[i], of: numbered, into: &found)
                for (k, o) in found.enumerated() {
                    guard let o else { continue }
                    verdicts[i].bytes[refs[k]] = o.bytes
                    if ipc[k] && o.sharedMemory { verdicts[i].sharedMemory.append(refs[k]) }
                }
            }
        }
        return verdicts
    }

    /// What the scores of one answer rest on (for metrics and logs).
    public enum Basis: String, Sendable, CaseIterable {
        /// Fresh cached bytes of the pod's datasets on at least one node.
        case cachedBytes = "cached_bytes"
        /// Nothing cached anywhere: distance to the datasets' cache workers.
        case topology
        /// Nothing cached and no cache worker known: all 0, the default scheduler decides.
        case nothing
        /// The pod reads no dataset: all 0.
        case noDatasets = "no_datasets"
    }

    /// The scores alone, in `nodes` order: what `/prioritize` answers, without building a verdict
    /// per node, and what they rest on.
    public static func scores(
        _ plan: PodPlan, nodes: [String], locality: LocalityIndex.Snapshot, config: ExtenderConfig, view: NodeView? = nil
    ) -> (scores: [Int], basis: Basis) {
        scores(plan, nodes: NodeNameList(nodes), locality: locality, config: config, view: view)
    }

    /// The same over a request's names as sent (no `String` per name unless nothing is cached
    /// anywhere and topology decides).
    public static func scores(
        _ plan: PodPlan, nodes: NodeNameList, locality: LocalityIndex.Snapshot, config: ExtenderConfig, view: NodeView? = nil
    ) -> (scores: [Int], basis: Basis) {
        guard !plan.isEmpty else { return ([Int](repeating: 0, count: nodes.count), .noDatasets) }
        let (weights, bonus) = weigh(plan, nodes: nodes, locality: locality, config: config) { _, _, _ in }
        let best = weights.max() ?? 0
        if best == 0 {
            if let view, let topology = topologyScores(plan, nodes: Array(nodes), view: view, config: config, detailed: false) {
                return (topology.map(\.score), .topology)
            }
            return ([Int](repeating: 0, count: nodes.count), .nothing)
        }
        return (weights.indices.map { score(weights[$0], best: best, bonus: bonus[$0], config: config) }, .cachedBytes)
    }

    @inline(__always)
    static func score(_ weight: Double, best: Double, bonus: Bool, config: ExtenderConfig) -> Int {
        var score = best > 0 ? Int((10 * weight / best).rounded()) : 0
        if bonus { score += config.sharedMemoryBonus }
        return min(10, max(0, score))
    }

    /// Per node: the weighted fresh bytes of the pod's datasets, and whether it holds a
    /// shared-memory copy of one the pod reads by IPC. `visit(node index, best observation per
    /// dataset, read-by-IPC per dataset)` sees each node's observations as they are read.
    @inline(__always)
    static func weigh(
        _ plan: PodPlan, nodes: NodeNameList, locality: LocalityIndex.Snapshot, config: ExtenderConfig,
        visit: (Int, [Observation?], [Bool]) -> Void
    ) -> (weights: [Double], bonus: [Bool]) {
        var weights = [Double](repeating: 0, count: nodes.count)
        var bonus = [Bool](repeating: false, count: nodes.count)
        // Per dataset once, not per node: its reference and whether the pod reads it by IPC.
        let ipc = plan.datasets.map(\.access.isSharedMemory)
        var found = [Observation?](repeating: nil, count: plan.datasets.count)
        let numbered = locality.numbered(plan.datasets.map(\.ref))
        locality.reading { reader in
            nodes.forEachName { n, name in
                reader.observations(nodeBytes: name, of: numbered, into: &found)
                var weight = 0.0
                var colocated = false
                for i in found.indices {
                    guard let o = found[i] else { continue }
                    weight += config.weighted(o.bytes)
                    colocated = colocated || (ipc[i] && o.sharedMemory)
                }
                weights[n] = weight
                bonus[n] = colocated
                visit(n, found, ipc)
            }
        }
        return (weights, bonus)
    }

    /// Scores by distance to each dataset's cache workers, when nothing is cached anywhere, in
    /// `nodes` order with the reasons (`detailed` only); nil when no dataset has a worker anywhere.
    static func topologyScores(
        _ plan: PodPlan, nodes: [String], view: NodeView, config: ExtenderConfig, detailed: Bool
    ) -> [(score: Int, why: [String])]? {
        struct Place {
            var nodes: Set<String>
            var zones: Set<String>
            var regions: Set<String>
        }
        let places = plan.datasets.map { d -> Place in
            let holders = view.cacheNodes(d)
            let labels = holders.map { view.labels($0) }
            return Place(
                nodes: Set(holders),
                zones: Set(labels.compactMap { NodeView.value($0, NodeView.zoneKeys) }),
                regions: Set(labels.compactMap { NodeView.value($0, NodeView.regionKeys) }))
        }
        guard places.contains(where: { !$0.nodes.isEmpty }) else { return nil }
        return nodes.map { node in
            let labels = view.labels(node)
            let zone = NodeView.value(labels, NodeView.zoneKeys)
            let region = NodeView.value(labels, NodeView.regionKeys)
            var score = 0
            var why: [String] = []
            for (d, place) in zip(plan.datasets, places) {
                if place.nodes.contains(node) {
                    score += config.topologyNodeScore
                    if detailed { why.append("runs a cache worker of \(d.ref) (nothing cached yet)") }
                } else if let zone, place.zones.contains(zone) {
                    score += config.topologyZoneScore
                    if detailed { why.append("same zone \(zone) as a cache worker of \(d.ref)") }
                } else if let region, place.regions.contains(region) {
                    score += config.topologyRegionScore
                    if detailed { why.append("same region \(region) as a cache worker of \(d.ref)") }
                }
            }
            return (min(10, max(0, score)), why)
        }
    }
}
