import JSON
import KubeClient
import Locality

extension PodDraft {
    /// Fluid's node affinity (its NodeAffinityWithCache plugin, `config.tieredLocality`): towards
    /// the nodes that cache the pod's datasets and, from each runtime's `status.cacheAffinity`,
    /// their zone and region; required for shared memory or when the pod asks
    /// (`fluid.io/dataset.<name>.sched: required`). Pods without datasets are steered away from
    /// cache nodes. A locality level whose label key the pod already constrains is left to the pod.
    mutating func addSchedulingHints(datasets: [ResolvedDataset], podLabels: StringMembers, config: MutationConfig) -> [Explanation] {
        var affinity = NodeAffinityDraft(spec["affinity"]?["nodeAffinity"]?.objectValue ?? [:], explain: explain)
        let ownKeys = Self.constrainedKeys(spec: spec)
        let tiers = config.tieredLocality
        for d in datasets {
            let isIPC = d.access.isSharedMemory
            if isIPC || podLabels[d.schedulingLabel] == "required" {
                let levels = Self.requiredLevels(d, tiers: tiers)
                for level in levels where !ownKeys.contains(level) || level.hasPrefix("fluid.io/") {
                    affinity.require(Self.localityExpressions(d, level: level), of: d, level: level, sharedMemory: isIPC)
                }
            } else {
                let terms = Self.preferredTerms(d, tiers: tiers)
                for (tier, levelTerms) in zip(tiers.preferred, terms) where !ownKeys.contains(tier.name) || tier.name.hasPrefix("fluid.io/") {
                    affinity.prefer(levelTerms, of: d, level: tier.name, weight: tier.weight)
                }
            }
        }
        if datasets.isEmpty, config.avoidCacheNodes { affinity.avoidCacheNodes() }
        guard affinity.changed else { return [] }
        var outer = spec["affinity"]?.objectValue ?? [:]
        outer["nodeAffinity"] = .object(affinity.finished)
        spec["affinity"] = .object(outer)
        return affinity.explanations
    }

    /// The locality levels a dataset's pod is required on: the configuration's, and for shared
    /// memory, which needs the engine on the node, its cache nodes whatever the configuration.
    static func requiredLevels(_ d: ResolvedDataset, tiers: MutationConfig.TieredLocality) -> [String] {
        d.access.isSharedMemory && !tiers.required.contains("fluid.io/node") ? ["fluid.io/node"] + tiers.required : tiers.required
    }

    /// The preferred terms of dataset `d` at each of `tiers.preferred` (in its order), each with
    /// the expression it holds: made once per resolution of `d` and configuration (`derived`), as
    /// they read nothing of the pod.
    static func preferredTerms(_ d: ResolvedDataset, tiers: MutationConfig.TieredLocality) -> [[PreferredTerm]] {
        d.derived(tiers) {
            tiers.preferred.map { tier in
                localityExpressions(d, level: tier.name).map { expr in
                    PreferredTerm(expression: expr, term: NodeAffinityDraft.preferredTerm(expr, weight: tier.weight))
                }
            }
        }
    }

    /// The label expressions a locality level stands for, for dataset `d`: its cache nodes
    /// (`fluid.io/node`), its FUSE nodes (`fluid.io/fuse`), or a node label key from the runtime's
    /// `status.cacheAffinity`.
    static func localityExpressions(_ d: ResolvedDataset, level: String) -> [JSONValue] {
        switch level {
        case "fluid.io/node":
            return [
                [
                    "key": .string(d.cacheNodeLabel), "operator": "In",
                    "values": ["true"],
                ]
            ]
        case "fluid.io/fuse":
            return [
                [
                    "key": .string(d.fuseNodeLabel), "operator": "In",
                    "values": ["true"],
                ]
            ]
        default:
            return cacheAffinityExpressions(d.runtime, key: level)
        }
    }

    /// The expressions on `key` of the required terms of the runtime's `status.cacheAffinity` (a
    /// NodeAffinity: Fluid merges its workers' nodeSelector and node affinity into it), each once.
    static func cacheAffinityExpressions(_ runtime: FluidRuntime, key: String) -> [JSONValue] {
        let terms = runtime.status?.cacheAffinity?["requiredDuringSchedulingIgnoredDuringExecution"]?["nodeSelectorTerms"]?.arrayValue ?? []
        var out: [JSONValue] = []
        for term in terms {
            for expr in term["matchExpressions"]?.arrayValue ?? [] where expr["key"]?.stringValue == key {
                guard let op = expr["operator"]?.stringValue, !op.isEmpty else { continue }
                var clean: JSONValue = ["key": .string(key), "operator": .string(op)]
                if let values = expr["values"]?.arrayValue, values.allSatisfy({ $0.stringValue != nil }) {
                    clean["values"] = .array(values)
                } else if ["In", "NotIn", "Gt", "Lt"].contains(op) {
                    continue
                }
                if !out.contains(clean) { out.append(clean) }
            }
        }
        return out
    }

    /// The node label keys the pod itself constrains (nodeSelector, node affinity terms).
    static func constrainedKeys(spec: JSONObject) -> Set<String> {
        var keys = Set((spec["nodeSelector"]?.objectValue ?? [:]).keys)
        let na = spec["affinity"]?["nodeAffinity"]
        for term in na?["requiredDuringSchedulingIgnoredDuringExecution"]?["nodeSelectorTerms"]?.arrayValue ?? [] {
            for e in term["matchExpressions"]?.arrayValue ?? [] { if let k = e["key"]?.stringValue { keys.insert(k) } }
        }
        for p in na?["preferredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? [] {
            for e in p["preference"]?["matchExpressions"]?.arrayValue ?? [] { if let k = e["key"]?.stringValue { keys.insert(k) } }
        }
        return keys
    }

    static func describe(_ expr: JSONValue) -> String {
        let values = (expr["values"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
        return "\(expr["operator"]?.stringValue ?? "") [\(values)]"
    }
}

/// A preferred node affinity term and the one label expression it holds.
struct PreferredTerm: Sendable {
    var expression: JSONValue
    var term: JSONValue
}

/// A pod's node affinity as the scheduling hints add to it, with why each term was added.
struct NodeAffinityDraft {
    var nodeAffinity: JSONObject
    var preferred: [JSONValue]
    var required: JSONObject?
    var changed = false
    let explain: Bool
    var explanations: [Explanation] = []

    init(_ nodeAffinity: JSONObject, explain: Bool) {
        self.nodeAffinity = nodeAffinity
        preferred = nodeAffinity["preferredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? []
        required = nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"]?.objectValue
        self.explain = explain
    }

    /// The node affinity with what was added.
    var finished: JSONObject {
        var out = nodeAffinity
        if !preferred.isEmpty { out["preferredDuringSchedulingIgnoredDuringExecution"] = .array(preferred) }
        if let required { out["requiredDuringSchedulingIgnoredDuringExecution"] = .object(required) }
        return out
    }

    /// The preferred term of the one expression `expr`, with `weight`.
    static func preferredTerm(_ expr: JSONValue, weight: Int64) -> JSONValue {
        ["weight": .integer(weight), "preference": ["matchExpressions": [expr]]]
    }

    /// Adds a preferred term of `expr` unless there is one; whether it was added.
    mutating func addPreferred(_ expr: JSONValue, weight: Int64) -> Bool {
        addPreferred(term: Self.preferredTerm(expr, weight: weight))
    }

    /// Adds `term` unless there is one like it; whether it was added.
    mutating func addPreferred(term: JSONValue) -> Bool {
        guard !preferred.contains(term) else { return false }
        preferred.append(term)
        changed = true
        return true
    }

    /// Adds `expr` to every required term that lacks it; whether it was added anywhere.
    mutating func addRequired(_ expr: JSONValue) -> Bool {
        var r = required ?? [:]
        var terms = r["nodeSelectorTerms"]?.arrayValue ?? []
        if terms.isEmpty { terms = [[:]] }
        var added = false
        for i in terms.indices {
            var exprs = terms[i]["matchExpressions"]?.arrayValue ?? []
            if !exprs.contains(expr) {
                exprs.append(expr)
                terms[i]["matchExpressions"] = .array(exprs)
                added = true
            }
        }
        r["nodeSelectorTerms"] = .array(terms)
        required = r
        changed = changed || added
        return added
    }

    /// Keeps `e` when explaining; otherwise its text is never built.
    mutating func note(_ e: @autoclosure () -> Explanation) { if explain { explanations.append(e()) } }

    /// Requires each of `exprs`, a locality level of `d` (shared memory, or the pod asked).
    mutating func require(_ exprs: [JSONValue], of d: ResolvedDataset, level: String, sharedMemory: Bool) {
        for expr in exprs where addRequired(expr) {
            let key = expr["key"]?.stringValue ?? level
            note(
                Explanation(
                    dataset: d.refDescription, rule: "affinity-required",
                    text: sharedMemory && level == "fluid.io/node"
                        ? "required node affinity \(key)=true: \(d.ref) is read over a shared-memory socket, which exists "
                            + "only on nodes running its engine"
                        : "required node affinity on \(key) (\(level); pod label "
                            + "\(d.schedulingLabel)=required)"
                ))
        }
    }

    /// Prefers each of `terms`, a locality level of `d` with `weight`.
    mutating func prefer(_ terms: [PreferredTerm], of d: ResolvedDataset, level: String, weight: Int64) {
        for t in terms where addPreferred(term: t.term) {
            let expr = t.expression
            let key = expr["key"]?.stringValue ?? level
            note(
                Explanation(
                    dataset: d.refDescription, rule: "affinity-preferred",
                    text: level == "fluid.io/node"
                        ? "preferred node affinity (weight \(weight)) towards nodes Fluid labels \(key)=true, where "
                            + "\(d.ref)'s cache lives"
                        : "preferred node affinity (weight \(weight)) towards \(key) \(PodDraft.describe(expr)), where "
                            + "\(d.ref)'s cache workers run (runtime status.cacheAffinity)"
                ))
        }
    }

    /// A pod without datasets prefers nodes without caches (Fluid's `fluid.io/dataset-num`).
    mutating func avoidCacheNodes() {
        let expr: JSONValue = ["key": .string(Keys.fluidDatasetNum), "operator": "DoesNotExist"]
        guard addPreferred(expr, weight: 100) else { return }
        note(
            Explanation(
                dataset: nil, rule: "affinity-avoid-cache-nodes",
                text:
                    "the pod uses no dataset: preferred node affinity (weight 100) towards nodes without "
                    + "\(Keys.fluidDatasetNum), keeping cache nodes for pods that read their data"
            ))
    }
}
