import JSON
import Locality

extension PodDraft {
    /// `envFrom` a ConfigMap into every app container (and init containers if asked) that lacks it.
    mutating func addEnvFrom(configMap: String, dataset: DatasetRef, includeInit: Bool, optional: Bool) -> [Explanation] {
        var names: [String] = []
        var ref: JSONObject = ["name": .string(configMap)]
        if optional { ref["optional"] = true }
        let entry: JSONValue = ["configMapRef": .object(ref)]
        func apply(_ list: inout [JSONValue], skipSidecars: Bool) {
            for i in list.indices {
                if skipSidecars, list[i]["restartPolicy"]?.stringValue == "Always" { continue }
                let cname = list[i]["name"]?.stringValue ?? "#\(i)"
                if cname.hasPrefix("locus-fuse-") { continue }
                var envFrom = list[i]["envFrom"]?.arrayValue ?? []
                if envFrom.contains(where: { $0["configMapRef"]?["name"]?.stringValue == configMap }) { continue }
                envFrom.append(entry)
                list[i]["envFrom"] = .array(envFrom)
                if explain { names.append(cname) }
            }
        }
        apply(&containers, skipSidecars: false)
        if includeInit { apply(&initContainers, skipSidecars: true) }
        guard explain, !names.isEmpty else { return [] }
        return [
            Explanation(
                dataset: dataset.description, rule: "env-configmap",
                text:
                    "envFrom ConfigMap \(configMap) into "
                    + "\(names.joined(separator: ", "))\(optional ? " (optional: the pod starts even before the engine writes it)" : "")"
            )
        ]
    }
}
