import Locality

extension PodDraft {
    /// Fluid's node affinity towards the nodes that cache the pod's datasets (required for
    /// shared memory or when the pod asks), and away from cache nodes for pods without datasets.
    mutating func addSchedulingHints(datasets: [ResolvedDataset], podLabels: [String: String], config: MutationConfig) -> [Explanation] {
        var out: [Explanation] = []
        var affinity = spec["affinity"]?.objectValue ?? [:]
        var nodeAffinity = affinity["nodeAffinity"]?.objectValue ?? [:]
        var preferred = nodeAffinity["preferredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? []
        var required = nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"]?.objectValue
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

        for d in datasets {
            let key = Keys.fluidCacheNodeLabel(namespace: d.ref.namespace, name: d.ref.name, uid: d.dataset.metadata.uid)
            let expr: JSONValue = ["key": .string(key), "operator": "In", "values": ["true"]]
            let isIPC: Bool
            if case .sharedMemory = d.access { isIPC = true } else { isIPC = false }
            if isIPC || podLabels[Keys.fluidSchedulingLabel(dataset: d.ref.name)] == "required" {
                if require(expr) {
                    changed = true
                    if explain {
                        out.append(Explanation(
                            dataset: d.ref.description, rule: "affinity-required",
                            text: isIPC
                                ? "required node affinity \(key)=true: \(d.ref) is read over a shared-memory socket, which exists only on nodes running its engine"
                                : "required node affinity \(key)=true (pod label \(Keys.fluidSchedulingLabel(dataset: d.ref.name))=required)"))
                    }
                }
            } else if prefer(expr, weight: 100) {
                changed = true
                if explain {
                    out.append(Explanation(
                        dataset: d.ref.description, rule: "affinity-preferred",
                        text: "preferred node affinity (weight 100) towards nodes Fluid labels \(key)=true, where \(d.ref)'s cache lives"))
                }
            }
        }
        if datasets.isEmpty, config.avoidCacheNodes {
            let expr: JSONValue = ["key": .string(Keys.fluidDatasetNum), "operator": "DoesNotExist"]
            if prefer(expr, weight: 100) {
                changed = true
                if explain {
                    out.append(Explanation(
                        dataset: nil, rule: "affinity-avoid-cache-nodes",
                        text: "the pod uses no dataset: preferred node affinity (weight 100) towards nodes without \(Keys.fluidDatasetNum), keeping cache nodes for pods that read their data"))
                }
            }
        }
        guard changed else { return [] }
        if !preferred.isEmpty { nodeAffinity["preferredDuringSchedulingIgnoredDuringExecution"] = .array(preferred) }
        if let required { nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"] = .object(required) }
        affinity["nodeAffinity"] = .object(nodeAffinity)
        spec["affinity"] = .object(affinity)
        return out
    }
}
