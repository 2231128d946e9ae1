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

    /// Every mutation scenario (sidecars native and plain, with and without their mount check,
    /// unprivileged, serverful, shared memory, Pod Security fallbacks) decided one after another
    /// over one memo, twice: each decision is the one made without the memo, although the
    /// scenarios share resolutions and with them the sidecars prepared from them.
    @Test func everyScenarioOverOneMemoIsDecidedAsWithoutIt() throws {
        let cache = try exampleCache()
        let memo = ResolutionMemo()
        var scenarios = try MutationScenarios.all()
        // One dataset's sidecar under every label and policy its preparation reads.
        let labels: [[String: String]] = [
            [:], ["fuse.sidecar.poststart.fluid.io/inject": "false"], ["unprivileged.sidecar.fluid.io/inject": "true"],
            ["cachedir.sidecar.fluid.io/inject": "true"],
        ]
        for extra in labels {
            for native in [true, false] {
                let pod = makePod(labels: extra.merging(["serverless.fluid.io/inject": "true"]) { a, _ in a }, claims: ["llama-weights"])
                scenarios.append(("llama-weights \(extra), native \(native)", pod, "ml", policy { $0.mutation.nativeSidecars = native }))
            }
        }
        scenarios.append(
            ("llama-weights, short mount check", makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["llama-weights"]), "ml",
             policy { $0.mutation.fuseMountTimeoutSeconds = 7 }))
        // One dataset's preferred terms under other locality tiers (kept with the resolution, keyed by them).
        let tiers: [MutationConfig.TieredLocality] = [
            .init(preferred: [("fluid.io/node", 40)], required: []),
            .init(preferred: [("fluid.io/fuse", 100), ("fluid.io/node", 100)], required: []),
        ]
        for (i, t) in tiers.enumerated() {
            scenarios.append(
                ("imagenet, tiers \(i)", makePod(labels: ["fuse.serverful.fluid.io/inject": "true"], claims: ["imagenet"]), "ml",
                 policy { $0.mutation.tieredLocality = t }))
        }
        for round in 1...2 {
            for s in scenarios {
                let plain = Admission.review(pod: s.pod, namespace: s.namespace, uid: "u", catalog: cache, policy: s.policy)
                let kept = Admission.review(pod: s.pod, namespace: s.namespace, uid: "u", catalog: cache, policy: s.policy, memo: memo)
                #expect(kept.response == plain.response && kept.pod == plain.pod, "round \(round): \(s.name)")
            }
        }
    }

    /// A value derived from a resolution is made once per key and handed out again; other keys
    /// get their own; past the limit the values start over.
    @Test func derivedValuesAreMadeOncePerKey() throws {
        let cache = try exampleCache()
        let memo = ResolutionMemo()
        let resolver = DatasetResolver(catalog: cache, memo: memo)
        let pod = makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["imagenet"])
        let first = try #require(resolver.resolve(pod: pod, namespace: "ml").datasets.first)
        let again = try #require(resolver.resolve(pod: pod, namespace: "ml").datasets.first)
        var made = 0
        let make = { () -> String in
            made += 1
            return "value \(made)"
        }
        #expect(first.derived("a", make) == "value 1")
        #expect(again.derived("a", make) == "value 1", "the memo's resolution keeps it")
        #expect(first.derived("b", make) == "value 2")
        #expect(first.derived(1, make) == "value 3", "a key of another type is another key")
        #expect(first.derived("a", { made += 1; return made }) == 4, "a value of another type is another value")
        let fresh = try #require(DatasetResolver(catalog: cache).resolve(pod: pod, namespace: "ml").datasets.first)
        #expect(fresh.derived("a", make) == "value 5", "another resolution has its own")
        for i in 0..<ResolvedDataset.derivedLimit { _ = first.derived("k\(i)", make) }
        made = 100
        #expect(first.derived("a", make) == "value 101", "past the limit, made again")
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
