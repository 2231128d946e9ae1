import Foundation
import JSON
import KubeClient
import Locality
import Mutators
import TestSupport
import Testing

@Suite("Dataset resolutions kept across reviews")
struct ResolutionMemoTests {
    /// The store's revision moves with every change to its content, after it, and not otherwise.
    @Test func storeRevisionMovesWithEveryChangeAndOnlyThen() throws {
        let store = Store<Namespace>()
        var ns = Namespace(metadata: ObjectMeta(name: "ml", resourceVersion: "1"))
        var last = store.revision
        func moved() -> Bool {
            defer { last = store.revision }
            return store.revision != last
        }
        store.upsert(ns)
        #expect(moved(), "added")
        store.upsert(ns)
        #expect(!moved(), "the same resourceVersion again is no change")
        ns.metadata.resourceVersion = "2"
        store.upsert(ns)
        #expect(moved(), "updated")
        store.delete(ns)
        #expect(moved(), "deleted")
        store.delete(ns)
        #expect(!moved(), "deleting what is not there")
        _ = store.replace(with: [ns])
        #expect(moved(), "relisted")
        let cache = ClusterCache()
        let before = cache.revision
        cache.knowsDaemonSets = true
        #expect(cache.revision != before, "the cache's revision covers knowsDaemonSets")
        let after = cache.revision
        cache.daemonSets.upsert(DaemonSet(metadata: ObjectMeta(name: "x", namespace: "ml", resourceVersion: "1")))
        #expect(cache.revision != after, "and the stores of the cluster's configuration")
        let configured = cache.revision
        cache.nodes.upsert(Node(metadata: ObjectMeta(name: "node-z", resourceVersion: "1")))
        #expect(cache.revision == configured, "but not nodes, whose status changes all the time")
    }

    /// With a memo, every decision is the one made without it: the first time and again from the memo.
    @Test func memoizedDecisionsAreTheDecisionsMadeWithoutIt() throws {
        let cache = try exampleCache()
        let memo = ResolutionMemo()
        let pods: [(JSONValue, String)] = [
            (makePod(labels: ["fuse.serverful.fluid.io/inject": "true"], claims: ["imagenet"]), "ml"),
            (makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["llama-weights", "imagenet"]), "ml"),
            (makePod(annotations: ["locus.dev/datasets": "features"]), "ml"),
            (makePod(annotations: ["locus.dev/datasets": "nope,ml/features"], claims: ["imagenet"]), "ml"),
            (makePod(namespace: "analytics", labels: [:], annotations: ["locus.dev/datasets": "ml/imagenet"]), "analytics"),
        ]
        for round in 1...2 {
            for (pod, namespace) in pods {
                let plain = Admission.review(pod: pod, namespace: namespace, uid: "u", catalog: cache, policy: AdmissionPolicy())
                let kept = Admission.review(pod: pod, namespace: namespace, uid: "u", catalog: cache, policy: AdmissionPolicy(), memo: memo)
                #expect(kept.response == plain.response, "round \(round): \(pod)")
                #expect(kept.outcome == plain.outcome && kept.pod == plain.pod && kept.problems == plain.problems)
            }
        }
    }

    /// A change to any object a resolution read is seen by the next review.
    @Test func aChangedCatalogIsSeenByTheNextReview() throws {
        let cache = try exampleCache()
        let memo = ResolutionMemo()
        let pod = makePod(labels: ["fuse.serverful.fluid.io/inject": "true"], claims: ["imagenet"])
        func review() -> AdmissionResult {
            Admission.review(pod: pod, namespace: "ml", uid: "u", catalog: cache, policy: AdmissionPolicy(), memo: memo)
        }
        #expect(review().outcome == .mutated)
        #expect(review().outcome == .mutated)

        // The dataset stops being bound.
        var dataset = try #require(cache.datasets.get(namespace: "ml", name: "imagenet"))
        let bound = dataset
        dataset.status?.phase = "NotBound"
        dataset.metadata.resourceVersion = "9001"
        cache.datasets.upsert(dataset)
        let unbound = review()
        #expect(unbound.outcome == .denied)
        #expect(unbound.problems.joined().contains("not bound"), "\(unbound.problems)")

        // Bound again.
        var rebound = bound
        rebound.metadata.resourceVersion = "9002"
        cache.datasets.upsert(rebound)
        #expect(review().outcome == .mutated)

        // A claim Fluid did not make is no dataset reference, until Fluid's label says it is one.
        let scratchPod = makePod(labels: ["fuse.serverful.fluid.io/inject": "true"], claims: ["scratch"])
        func scratchReview() -> AdmissionResult {
            Admission.review(pod: scratchPod, namespace: "ml", uid: "u", catalog: cache, policy: AdmissionPolicy(), memo: memo)
        }
        cache.persistentVolumeClaims.upsert(
            PersistentVolumeClaim(metadata: ObjectMeta(name: "scratch", namespace: "ml", resourceVersion: "1")))
        #expect(scratchReview().problems.isEmpty)
        #expect(scratchReview().engines.isEmpty)
        cache.persistentVolumeClaims.upsert(
            PersistentVolumeClaim(
                metadata: ObjectMeta(name: "scratch", namespace: "ml", resourceVersion: "2", labels: ["fluid.io/s-ml-scratch": "true"])))
        let labelled = scratchReview()
        #expect(labelled.outcome == .denied)
        #expect(labelled.problems.joined().contains("ml/scratch: no such Dataset"), "\(labelled.problems)")

        // A namespace's opt-in label is read afresh too.
        let namespaced = makePod(namespace: "ml", labels: [:], claims: [])
        func namespacedReview() -> AdmissionResult {
            Admission.review(pod: namespaced, namespace: "ml", uid: "u", catalog: cache, policy: AdmissionPolicy(), memo: memo)
        }
        #expect(namespacedReview().outcome == .skipped)
        cache.namespaces.upsert(Namespace(metadata: ObjectMeta(name: "ml", resourceVersion: "9004", labels: ["locus.dev/inject": "true"])))
        #expect(namespacedReview().outcome != .skipped)
    }
}
