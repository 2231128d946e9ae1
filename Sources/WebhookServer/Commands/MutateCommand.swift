public import ArgumentParser
import Foundation
import JSON
import KubeClient
import Locality
import Mutators

/// `locus mutate POD.yaml`: the webhook's decision for one pod, offline, from the same code path.
public struct Mutate: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Show what the webhook does to a pod: the decision, why, the JSON patch and the mutated pod.")

    /// `text`, `json` and `yaml` carry the whole decision; `pod` is the mutated pod alone (for `kubectl apply -f -`).
    public enum Output: String, ExpressibleByArgument, CaseIterable { case text, json, yaml, pod }

    @Argument(help: "Pod manifest, YAML or JSON.")
    var pod: String
    @Option(help: "Cluster-state YAML to decide against (default: the built-in example).")
    var clusterState: String?
    @Option(help: "YAML config file (same keys as `locus serve`).")
    var config: String?
    @Option(help: "Namespace when the manifest names none (default: default).")
    var namespace: String?
    @Option(
        help: "text (default), json or yaml (the whole decision: outcome, why, warnings, patch, pod), or pod (the mutated pod as YAML).")
    var output: Output = .text
    @Flag(help: "In text output, show the pod as a diff instead of whole.")
    var diff = false

    public init() {}

    public func run() throws {
        let (c, state, manifest) = try OfflineInputs.load(config: config, clusterState: clusterState, pod: pod, doing: "deciding")
        let cache = state.makeClusterCache()
        let ns = manifest["metadata"]?["namespace"]?.stringValue ?? namespace ?? "default"
        let policy = c.admissionPolicy(nativeSidecars: MutationConfig.hasNativeSidecars(version: c.kubernetesVersion ?? "1.31") ?? true)
        let result = Admission.review(pod: manifest, namespace: ns, uid: "locus-mutate", catalog: cache, policy: policy)
        switch output {
        case .json: print(Self.json(result).jsonString)
        case .yaml: print(YAMLBridge.yaml(Self.json(result)), terminator: "")
        case .pod: print(YAMLBridge.yaml(result.pod ?? manifest), terminator: "")
        case .text: print(Self.text(result, before: manifest, diff: diff), terminator: "")
        }
    }

    static func json(_ r: AdmissionResult) -> JSONValue {
        var o: JSONObject = [
            "outcome": .string(r.outcome.rawValue),
            "allowed": .bool(r.response.allowed),
            "engines": .array(r.engines.map { .string($0) }),
            "explanations": .array(
                r.explanations.map { e in
                    ["dataset": e.dataset.map { .string($0) } ?? .null, "rule": .string(e.rule), "text": .string(e.text)]
                }),
            "warnings": .array(r.response.warnings.map { .string($0) }),
            "patch": JSONPatch.json(r.response.patch),
        ]
        if let m = r.response.message { o["message"] = .string(m) }
        if let pod = r.pod { o["pod"] = pod }
        return .object(o)
    }

    static func text(_ r: AdmissionResult, before: JSONValue, diff: Bool) -> String {
        var out = ""
        let name = before["metadata"]?["name"]?.stringValue ?? before["metadata"]?["generateName"]?.stringValue ?? "(unnamed)"
        switch r.outcome {
        case .denied: out += "DENIED pod \(name): \(r.response.message ?? "")\n"
        case .skipped:
            out +=
                "SKIPPED pod \(name): it did not opt in (label locus.dev/inject, serverless.fluid.io/inject or "
                + "fuse.serverful.fluid.io/inject = \"true\", or a namespace label locus.dev/inject), or opted out\n"
        case .unchanged: out += "UNCHANGED pod \(name): nothing to add\n"
        case .mutated: out += "MUTATED pod \(name) (engines: \(r.engines.joined(separator: ", ")))\n"
        case .allowedWithProblems: out += "ADMITTED WITH PROBLEMS pod \(name)\n"
        }
        if !r.explanations.isEmpty {
            out += "\nWhy:\n"
            for e in r.explanations { out += "  - [\(e.rule)] \(e.text)\n" }
        }
        if !r.response.warnings.isEmpty {
            out += "\nWarnings:\n"
            for w in r.response.warnings { out += "  - \(w)\n" }
        }
        if !r.response.patch.isEmpty {
            out += "\nPatch (RFC 6902, \(r.response.patch.count) operations):\n"
            for op in r.response.patch { out += "  \(op.json.jsonString)\n" }
        }
        if let pod = r.pod, !r.response.patch.isEmpty {
            if diff {
                out += "\nPod diff:\n" + LineDiff.unified(YAMLBridge.yaml(before), YAMLBridge.yaml(pod))
            } else {
                out += "\nMutated pod:\n" + YAMLBridge.yaml(pod)
            }
        }
        return out
    }
}
