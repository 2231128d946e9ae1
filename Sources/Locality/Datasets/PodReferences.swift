import Foundation
public import JSON

/// How a pod names its datasets: read from pod JSON, shared by the webhook and the extender.
public enum PodReferences {
    /// The dataset references a pod makes: PVC volumes `isDatasetClaim` accepts, the
    /// `locus.dev/datasets` annotation, and Locus's own record of earlier injections.
    /// Malformed annotation entries are returned separately.
    public static func references(
        pod: JSONValue, namespace: String, isDatasetClaim: (String) -> Bool
    ) -> (references: [DatasetReference], malformed: [String]) {
        var refs: [DatasetReference] = []
        var malformed: [String] = []
        for v in pod["spec"]?["volumes"]?.arrayValue ?? [] {
            if let name = v["name"]?.stringValue, let claim = v["persistentVolumeClaim"]?["claimName"]?.stringValue, isDatasetClaim(claim) {
                refs.append(.volume(volume: name, claim: claim))
            }
        }
        let annotations = pod["metadata"]?["annotations"]
        for entry in (annotations?[Keys.datasets]?.stringValue ?? "").split(separator: ",") {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if let ref = DatasetRef(parsing: trimmed, defaultNamespace: namespace) {
                refs.append(.named(ref))
            } else {
                malformed.append(trimmed)
            }
        }
        for ref in injectedRecord(pod).keys.sorted() { refs.append(.named(ref)) }
        return (refs, malformed)
    }

    /// Locus's record on the pod: dataset → how it was wired (`locus.dev/injected`).
    public static func injectedRecord(_ pod: JSONValue) -> [DatasetRef: String] {
        var out: [DatasetRef: String] = [:]
        let text = pod["metadata"]?["annotations"]?[Keys.injected]?.stringValue ?? ""
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let ref = DatasetRef(parsing: parts[0], defaultNamespace: ""), !ref.namespace.isEmpty else { continue }
            out[ref] = String(parts[1])
        }
        return out
    }

}
