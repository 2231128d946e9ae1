import Foundation
import JSON
import KubeClient
import Locality
import TestSupport
import Testing

@testable import Mutators

@Suite("Pods read without their containers' details")
struct ContainerDetailsTests {
    /// Every member `ContainerDetails` leaves out, as a real pod writes them; `env` sets the
    /// shared-memory socket variable when `socketVariable` is given (Locus leaves it as it is).
    static func detailed(_ container: JSONValue, socketVariable: String? = nil) -> JSONValue {
        var c = container
        c["image"] = "registry.example/trainer:2026.12"
        c["command"] = ["python", "-m", "train"]
        c["args"] = ["--epochs", "3"]
        c["workingDir"] = "/work"
        var env: [JSONValue] = (0..<40).map { ["name": .string("SETTING_\($0)"), "value": .string("value number \($0) of the job")] }
        env.append(["name": "NODE", "valueFrom": ["fieldRef": ["fieldPath": "spec.nodeName"]]])
        if let socketVariable { env.append(["name": .string(socketVariable), "value": "/elsewhere/vineyard.sock"]) }
        c["env"] = .array(env)
        c["resources"] = ["requests": ["cpu": "2", "memory": "8Gi"], "limits": ["memory": "8Gi"]]
        c["resizePolicy"] = [["resourceName": "cpu", "restartPolicy": "NotRequired"]]
        c["livenessProbe"] = ["httpGet": ["path": "/healthz", "port": 8080]]
        c["readinessProbe"] = ["exec": ["command": ["cat", "/tmp/ready"]]]
        c["startupProbe"] = ["tcpSocket": ["port": 8080]]
        c["lifecycle"] = ["preStop": ["exec": ["command": ["sleep", "5"]]]]
        c["terminationMessagePath"] = "/dev/termination-log"
        c["terminationMessagePolicy"] = "File"
        c["imagePullPolicy"] = "IfNotPresent"
        c["stdin"] = false
        c["stdinOnce"] = false
        c["tty"] = false
        return c
    }

    /// The scenarios' pods with detailed containers, and init containers that mount the app's
    /// volumes too (so a sidecar put in front of them comes with changes to them).
    static func detailedPods(socketVariable: String? = nil) throws -> [(name: String, pod: JSONValue, namespace: String, policy: AdmissionPolicy)] {
        try MutationScenarios.all().map { s in
            var pod = s.pod
            let containers = pod["spec"]?["containers"]?.arrayValue ?? []
            pod["spec"]?["containers"] = .array(containers.map { detailed($0, socketVariable: socketVariable) })
            if let inits = pod["spec"]?["initContainers"]?.arrayValue {
                pod["spec"]?["initContainers"] = .array(
                    inits.map { c in
                        var c = detailed(c, socketVariable: socketVariable)
                        c["volumeMounts"] = containers.first?["volumeMounts"]
                        return c
                    })
            }
            return (s.name, pod, s.namespace, s.policy)
        }
    }

    /// `/mutate`'s reading gives every scenario the answer the whole pod gets, byte for byte.
    @Test(arguments: [nil, "VINEYARD_IPC_SOCKET"])
    func theAnswerIsTheWholePodsAnswer(socketVariable: String?) throws {
        let cache = try exampleCache()
        var mutated = 0
        var readWhole: [String] = []
        for s in try Self.detailedPods(socketVariable: socketVariable) {
            let body = admissionReview(pod: s.pod, namespace: s.namespace)
            let (request, answer) = try body.withUnsafeBytes {
                try Admission.review(body: $0, catalog: cache, policy: s.policy, now: Date(timeIntervalSince1970: 0))
            }
            let whole = Admission.review(
                pod: s.pod, namespace: s.namespace, uid: request.uid, catalog: cache, policy: s.policy, now: Date(timeIntervalSince1970: 0))
            #expect(answer.outcome == whole.outcome, "\(s.name)")
            #expect(answer.response == whole.response, "\(s.name)")
            #expect(
                answer.response.review(apiVersion: request.apiVersion) == whole.response.review(apiVersion: request.apiVersion),
                "\(s.name)")
            if answer.outcome == .mutated { mutated += 1 }
            if !request.leavesOutContainerDetails { readWhole.append(s.name) }
        }
        #expect(mutated >= 8, "the scenarios mutate their pods")
        // Read whole from the start where shared memory sets its variable in env; elsewhere never
        // (no second decision, a sidecar in front of containers that change too among them).
        #expect(Set(readWhole) == ["vineyard by annotation", "everything", "allow policy with a missing dataset"], "\(readWhole)")
    }

    /// Where the patch over the pod read without details would be wrong, the check says so (and
    /// `/mutate` reads the pod whole): a variable set in `env`. Elsewhere it holds (a sidecar put in
    /// front of containers that change too among them), and the details are never read.
    @Test func theCheckFindsThePatchesThatWouldReachTheDetails() throws {
        let cache = try exampleCache()
        var kept: [String] = []
        var refused: [String] = []
        for s in try Self.detailedPods() {
            let body = admissionReview(pod: s.pod, namespace: s.namespace)
            let lean = try AdmissionRequest.parse(body, leavingOutContainerDetails: true)
            #expect(lean.leavesOutContainerDetails)
            let pod = try #require(lean.object)
            for list in ["containers", "initContainers"] {
                for c in pod["spec"]?[list]?.arrayValue ?? [] {
                    #expect(c.objectValue?.keys.contains(where: ContainerDetails.leftOut.contains) == false, "\(s.name)")
                    #expect(c["name"] != nil && c["volumeMounts"] != nil, "\(s.name): what decisions read is built")
                }
            }
            let result = Admission.review(lean, catalog: cache, policy: s.policy, now: Date(timeIntervalSince1970: 0))
            guard !result.response.patch.isEmpty else { continue }
            if ContainerDetails.patchKeepsThem(result.response.patch, original: pod) {
                kept.append(s.name)
            } else {
                refused.append(s.name)
            }
        }
        #expect(refused.contains("vineyard by annotation") && refused.contains("everything"), "the socket variable goes into env: \(refused)")
        #expect(
            kept.contains("native sidecar") && kept.contains("plain sidecar"),
            "a sidecar put in front of the containers it changes is one add, and their own changes: \(kept)")
        #expect(kept.contains("serverful two datasets") && kept.contains("required affinity"), "\(kept)")
    }

    /// A pod with a shared-memory dataset is not decided over its containers without their
    /// details: the decision stops as the datasets are resolved, before anything is built.
    @Test func sharedMemoryStopsTheDecisionBeforeItIsMade() throws {
        let cache = try exampleCache()
        for s in try Self.detailedPods() {
            let lean = try AdmissionRequest.parse(admissionReview(pod: s.pod, namespace: s.namespace), leavingOutContainerDetails: true)
            let stopped =
                Admission.review(lean, catalog: cache, policy: s.policy, memo: nil, locality: nil, now: Date(), stoppingForDetails: true) == nil
            #expect(stopped == ["vineyard by annotation", "everything", "allow policy with a missing dataset"].contains(s.name), "\(s.name)")
        }
    }

    @Test func patchesThatReachTheDetailsAreRefused() {
        let original: JSONValue = [
            "spec": [
                "containers": [["name": "app", "volumeMounts": [["name": "d", "mountPath": "/d"]]]],
                "initContainers": [["name": "prep"]],
            ]
        ]
        func keeps(_ ops: [PatchOperation]) -> Bool { ContainerDetails.patchKeepsThem(ops, original: original) }
        #expect(keeps([PatchOperation(op: .add, path: "/spec/containers/0/volumeMounts/0/mountPropagation", value: "HostToContainer")]))
        #expect(keeps([PatchOperation(op: .add, path: "/spec/initContainers/0", value: ["name": "fuse"])]))
        #expect(keeps([PatchOperation(op: .add, path: "/metadata/annotations", value: [:])]))
        #expect(keeps([PatchOperation(op: .add, path: "/spec/ephemeralContainers", value: [["name": "x"]])]), "the pod had none")
        #expect(!keeps([PatchOperation(op: .add, path: "/spec/containers/0/env", value: [])]), "a member left out")
        #expect(!keeps([PatchOperation(op: .add, path: "/spec/initContainers/1", value: ["name": "prep"])]), "a container of the pod, moved")
        #expect(!keeps([PatchOperation(op: .replace, path: "/spec/initContainers/0/name", value: "fuse")]), "paired with another")
        #expect(!keeps([PatchOperation(op: .replace, path: "/spec/initContainers/0", value: ["name": "fuse"])]))
        #expect(!keeps([PatchOperation(op: .replace, path: "/spec/initContainers", value: [])]), "the pod's list, whole")
        #expect(!keeps([PatchOperation(op: .replace, path: "/spec", value: [:])]))
        #expect(!keeps([PatchOperation(op: .replace, path: "", value: [:])]))
        #expect(!keeps([PatchOperation(op: .add, path: "/spec/containers/-", value: ["name": "x"])]), "not an index")
        #expect(!keeps([PatchOperation(op: .add, path: "/spec/containers/3/volumeMounts", value: [])]), "no such container")
    }
}
