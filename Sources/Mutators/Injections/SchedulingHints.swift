import JSON
import KubeClient
import Locality

extension PodDraft {
    /// Fluid's node affinity (its NodeAffinityWithCache plugin, `config.tieredLocality`): towards
    /// the nodes that cache the pod's datasets and, from each runtime's `status.cacheAffinity`,
    /// their zone and region; required for shared memory or when the pod asks
    /// (`fluid.io/dataset.<name>.sched: required`). Pods without datasets are steered away from
    /// cache nodes. A locality level whose label key the pod already constrains is left to the pod.
    mutating func addSchedulingHints(datasets: [ResolvedDataset], podLabels: [String: String], config: MutationConfig) -> [Explanation] {
        var out: [Explanation] = []
        var affinity = spec["affinity"]?.objectValue ?? [:]
        var nodeAffinity = affinity["nodeAffinity"]?.objectValue ?? [:]
        var preferred = nodeAffinity["preferredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? []
        var required = nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"]?.objectValue
        let ownKeys = Self.constrainedKeys(spec: spec)
        var changed = false

        func prefer(_ expr: JSONValue, weight: Int64) -> Bool {
            let term: JSONValue = ["weight": .integer(weight), "preference": ["matchExpressions": [expr]]]
            guard !preferred.contains(term) else { return false }
            preferred.append(term)
            return true
        }
        func require(_ expr: JSONValue) -> Bool {
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
            return added
        }
        func explainOnce(_ e: Explanation) { if explain { out.append(e) } }

        let tiers = config.tieredLocality
        for d in datasets {
            let uid = d.dataset.metadata.uid
            let cacheKey = Keys.fluidCacheNodeLabel(namespace: d.ref.namespace, name: d.ref.name, uid: uid)
            let isIPC: Bool
            if case .sharedMemory = d.access { isIPC = true } else { isIPC = false }
            let asked = podLabels[Keys.fluidSchedulingLabel(dataset: d.ref.name)] == "required"
            /// The label expressions a locality level stands for.
            func expressions(_ level: String) -> [JSONValue] {
                switch level {
                case "fluid.io/node": [["key": .string(cacheKey), "operator": "In", "values": ["true"]]]
                case "fluid.io/fuse":
                    [
                        [
                            "key": .string(Keys.fluidFuseNodeLabel(namespace: d.ref.namespace, name: d.ref.name, uid: uid)),
                            "operator": "In", "values": ["true"],
                        ]
                    ]
                default: Self.cacheAffinityExpressions(d.runtime, key: level)
                }
            }
            if isIPC || asked {
                // Shared memory needs the engine on the node: its cache nodes, whatever the configuration.
                let levels = isIPC && !tiers.required.contains("fluid.io/node") ? ["fluid.io/node"] + tiers.required : tiers.required
                for level in levels where !ownKeys.contains(level) || level.hasPrefix("fluid.io/") {
                    for expr in expressions(level) where require(expr) {
                        changed = true
                        let key = expr["key"]?.stringValue ?? level
                        explainOnce(
                            Explanation(
                                dataset: d.ref.description, rule: "affinity-required",
                                text: isIPC && level == "fluid.io/node"
                                    ? "required node affinity \(key)=true: \(d.ref) is read over a shared-memory socket, which exists "
                                        + "only on nodes running its engine"
                                    : "required node affinity on \(key) (\(level); pod label "
                                        + "\(Keys.fluidSchedulingLabel(dataset: d.ref.name))=required)"
                            ))
                    }
                }
            } else {
                for (level, weight) in tiers.preferred where !ownKeys.contains(level) || level.hasPrefix("fluid.io/") {
                    for expr in expressions(level) where prefer(expr, weight: weight) {
                        changed = true
                        let key = expr["key"]?.stringValue ?? level
                        explainOnce(
                            Explanation(
                                dataset: d.ref.description, rule: "affinity-preferred",
                                text: level == "fluid.io/node"
                                    ? "preferred node affinity (weight \(weight)) towards nodes Fluid labels \(key)=true, where "
                                        + "\(d.ref)'s cache lives"
                                    : "preferred node affinity (weight \(weight)) towards \(key) \(Self.describe(expr)), where "
                                        + "\(d.ref)'s cache workers run (runtime status.cacheAffinity)"
                            ))
                    }
                }
            }
        }
        if datasets.isEmpty, config.avoidCacheNodes {
            let expr: JSONValue = ["key": .string(Keys.fluidDatasetNum), "operator": "DoesNotExist"]
            if prefer(expr, weight: 100) {
                changed = true
                explainOnce(
                    Explanation(
                        dataset: nil, rule: "affinity-avoid-cache-nodes",
                        text:
                            "the pod uses no dataset: preferred node affinity (weight 100) towards nodes without "
                            + "\(Keys.fluidDatasetNum), keeping cache nodes for pods that read their data"
                    ))
            }
        }
        guard changed else { return [] }
        if !preferred.isEmpty { nodeAffinity["preferredDuringSchedulingIgnoredDuringExecution"] = .array(preferred) }
        if let required { nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"] = .object(required) }
        affinity["nodeAffinity"] = .object(nodeAffinity)
        spec["affinity"] = .object(affinity)
        return out
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
