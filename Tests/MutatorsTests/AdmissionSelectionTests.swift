import Foundation
import JSON
import KubeClient
import Locality
import Mutators
import TestSupport
import Testing

@Suite("What an admission review reads of the pod")
struct AdmissionSelectionTests {
    /// The API server sends pods with managedFields, owner references and more metadata; the
    /// decision reads the pod's name, namespace, labels, annotations and spec, and answers exactly
    /// as it does over the whole pod.
    @Test func theMetadataNotReadChangesNoAnswer() throws {
        let cache = try exampleCache()
        for labels in [["fuse.serverful.fluid.io/inject": "true"], ["serverless.fluid.io/inject": "true"], ["locus.dev/inject": "true"]] {
            var pod = makePod(labels: labels, annotations: ["locus.dev/datasets": "features"], claims: ["imagenet", "llama-weights"])
            var meta = try #require(pod["metadata"]?.objectValue)
            meta["generateName"] = "reader-7d9f8b6c5-"
            meta["uid"] = "9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4"
            meta["creationTimestamp"] = "2026-12-03T20:00:00Z"
            meta["ownerReferences"] = [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "reader-7d9f8b6c5", "controller": true]]
            meta["managedFields"] = [
                [
                    "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                    "fieldsType": "FieldsV1", "fieldsV1": ["f:metadata": ["f:labels": [".": [:]]], "f:spec": ["f:containers": [:]]],
                ]
            ]
            pod["metadata"] = .object(meta)
            pod["status"] = ["phase": "Pending", "qosClass": "BestEffort"]
            let review: JSONValue = [
                "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "request": [
                    "uid": "u-1", "kind": ["group": "", "version": "v1", "kind": "Pod"], "operation": "CREATE", "namespace": "ml",
                    "object": pod, "oldObject": nil, "dryRun": false,
                ],
            ]
            let request = try AdmissionRequest.parse(Array(review.jsonString.utf8))
            let answer = Admission.review(request, catalog: cache, policy: AdmissionPolicy())
            let whole = Admission.review(pod: pod, namespace: "ml", uid: "u-1", catalog: cache, policy: AdmissionPolicy())
            #expect(answer.outcome == whole.outcome, "\(labels)")
            #expect(answer.outcome == .mutated, "\(labels)")
            #expect(answer.response == whole.response, "\(labels)")
            #expect(answer.response.review(apiVersion: "admission.k8s.io/v1") == whole.response.review(apiVersion: "admission.k8s.io/v1"))
        }
    }
}
