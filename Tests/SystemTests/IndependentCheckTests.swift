import Foundation
import JSON
import KubeClient
import Mutators
import TestSupport
import Testing

@testable import WebhookServer

/// Checks by implementations that are not Locus's: Python's `jsonpatch` applies every patch, and
/// the official Kubernetes models accept every result and every manifest (scripts/check-k8s.py).
@Suite("Independent checks: jsonpatch and the Kubernetes schema")
struct IndependentCheckTests {

    @Test func everyPatchAppliesWithJsonpatchAndGivesAValidPod() throws {
        let cache = try exampleCache(extra: fuseKindsState)
        // The other FUSE engines' runtimes come without DaemonSets: their sidecars are built from spec.fuse.
        let specCache = try exampleCache(extra: fuseKindsState, knowsDaemonSets: false)
        var lines: [String] = []
        var cases = try MutationScenarios.all()
        // Every FUSE engine's sidecar, one of them with the runtime's own env, resources and security context.
        for dataset in ["jindo-set", "goose-set", "efc-set", "thin-set", "tuned"] {
            cases.append(
                (
                    "sidecar of \(dataset)",
                    makePod(labels: ["serverless.fluid.io/inject": "true"], claims: [dataset], initContainer: true), "ml", policy()
                ))
        }
        for example in ["train-sidecar.yaml", "serve-vineyard.yaml"] {
            let text = try String(contentsOfFile: "\(Repository.root)/examples/\(example)", encoding: .utf8)
            cases.append((example, try podJSON(yaml: text), "ml", AdmissionPolicy()))
        }
        for s in cases {
            let r = decide(s.pod, namespace: s.namespace, cache: s.name.hasPrefix("sidecar of ") ? specCache : cache, policy: s.policy)
            let pod = try #require(r.pod, "\(s.name)")
            #expect(!r.response.patch.isEmpty, "\(s.name)")
            let line: JSONValue = ["name": .string(s.name), "original": s.pod, "patch": JSONPatch.json(r.response.patch), "expected": pod]
            lines.append(line.jsonString)
        }
        // The checker itself must catch a wrong patch: a misspelt field and a patch that does not apply.
        let bad: JSONValue = [
            "name": "misspelt", "original": makePod(),
            "patch": [["op": "add", "path": "/spec/containers/0/mountPropogation", "value": "x"]],
        ]
        let broken: JSONValue = ["name": "broken", "original": makePod(), "patch": [["op": "remove", "path": "/spec/nothing"]]]
        // ...and a value of the wrong type.
        let mistyped: JSONValue = [
            "name": "mistyped", "original": makePod(),
            "patch": [["op": "add", "path": "/spec/containers/0/securityContext", "value": ["privileged": "yes"]]],
        ]
        let dir = try TempDir()
        defer { dir.cleanup() }
        try dir.write("good.jsonl", lines.joined(separator: "\n") + "\n")
        try dir.write("bad.jsonl", [bad, broken, mistyped].map(\.jsonString).joined(separator: "\n") + "\n")

        let good = try Repository.python(["patches", dir.file("good.jsonl")])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(good.stdout.contains("ok \(cases.count)"), "\(good.stdout)")
        let caught = try Repository.python(["patches", dir.file("bad.jsonl")])
        #expect(caught.status == 1)
        #expect(caught.stdout.contains("misspelt: /spec/containers/0/mountPropogation: dropped"), "\(caught.stdout)")
        #expect(caught.stdout.contains("broken: patch does not apply"), "\(caught.stdout)")
        #expect(
            caught.stdout.contains(
                "mistyped: schema 1.33.0: /spec/containers/0/securityContext/privileged: 'yes' is not of type 'boolean'"),
            "\(caught.stdout)")
    }
}
