import Foundation
import HTTPTypes
import JSON
import KubeClient
import Locality
import Mutators
import NIOCore
import TestSupport
import Testing

@testable import WebhookServer

/// The admission side of warm before scheduling: which pods are gated, with what, and that an
/// answer decided on the locality view is never replayed.
@Suite("Warm before scheduling: the gate at admission")
struct WarmGateTests {
    static let now = Date(timeIntervalSince1970: 1_796_000_000)
    static let llama = DatasetRef(namespace: "ml", name: "llama-weights")  // JuiceFS, ufsTotal 26 GiB
    static let imagenet = DatasetRef(namespace: "ml", name: "imagenet")  // Alluxio, ufsTotal 140 GiB

    static func warmPolicy(_ change: (inout AdmissionPolicy) -> Void = { _ in }) -> AdmissionPolicy {
        policy {
            $0.warm.enabled = true
            change(&$0)
        }
    }

    /// A locality view with `bytes` of each dataset on one node each.
    static func view(_ figures: [DatasetRef: (node: String, bytes: Int64)] = [:]) -> LocalityIndex.Snapshot {
        let index = LocalityIndex()
        var picture: LocalityIndex.Picture = [:]
        for (ref, f) in figures {
            picture[f.node, default: [:]][ref] = Observation(bytes: TierBytes(ssd: f.bytes), confirmedAt: now, source: .juicefs)
        }
        index.replace(source: .juicefs, with: picture)
        return index.snapshot(now: now)
    }

    static func decide(
        _ pod: JSONValue, policy: AdmissionPolicy = warmPolicy(), view: LocalityIndex.Snapshot = view(), cache: ClusterCache? = nil
    ) throws -> AdmissionResult {
        Admission.review(
            pod: pod, namespace: "ml", uid: "u", catalog: try cache ?? exampleCache(), policy: policy, locality: view, now: now)
    }

    static func warmPod(_ claims: [String] = ["llama-weights"], annotations: [String: String] = [:], warm: String? = "true")
        -> JSONValue
    {
        var labels = ["locus.dev/inject": "true"]
        if let warm { labels["locus.dev/warm"] = warm }
        return makePod(labels: labels, annotations: annotations, claims: claims)
    }

    static func gates(_ r: AdmissionResult) -> [String] {
        (r.pod?["spec"]?["schedulingGates"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }

    @Test func aColdDatasetGatesThePodWithLabelAnnotationAndWarning() throws {
        let r = try Self.decide(Self.warmPod())
        #expect(r.outcome == .mutated)
        #expect(Self.gates(r) == ["locus.dev/dataset-warm"])
        #expect(r.pod?["metadata"]?["labels"]?["locus.dev/warm-gated"] == "true")
        let wait = try #require(r.pod?["metadata"]?["annotations"]?["locus.dev/warm-waiting"]?.stringValue.flatMap(WarmWait.init(text:)))
        #expect(wait.datasets == [Self.llama] && wait.threshold == .share(0.9))
        #expect(wait.deadline == Self.now.addingTimeInterval(600), "the default deadline is 10 minutes")
        #expect(r.warmWait == wait && r.readsLiveState)
        let warning = r.response.warnings.joined(separator: "\n")
        #expect(warning.contains("holds the pod") && warning.contains("ml/llama-weights: nothing cached"), "\(warning)")
        // The patch the API server applies carries the gate (an add of spec.schedulingGates).
        #expect(r.response.patch.contains { $0.path == "/spec/schedulingGates" })
    }

    @Test func aWarmDatasetIsNotGatedAndThresholdsDecide() throws {
        let gib: Int64 = 1 << 30
        let warm = Self.view([Self.llama: ("node-b", 25 * gib)])  // ≥ 90% of 26 GiB
        let r = try Self.decide(Self.warmPod(), view: warm)
        #expect(Self.gates(r).isEmpty && r.warmWait == nil)
        #expect(r.readsLiveState, "the decision read the view all the same")
        #expect(r.pod?["metadata"]?["labels"]?["locus.dev/warm-gated"] == nil)
        // A stricter share, then bytes.
        #expect(Self.gates(try Self.decide(Self.warmPod(annotations: ["locus.dev/warm-threshold": "99%"]), view: warm)) != [])
        #expect(Self.gates(try Self.decide(Self.warmPod(annotations: ["locus.dev/warm-threshold": "20Gi"]), view: warm)) == [])
        #expect(Self.gates(try Self.decide(Self.warmPod(annotations: ["locus.dev/warm-threshold": "30Gi"]), view: warm)) != [])
        // The policy's own threshold.
        #expect(Self.gates(try Self.decide(Self.warmPod(), policy: Self.warmPolicy { $0.warm.threshold = .share(1) }, view: warm)) != [])
    }

    @Test func deadlinesAndUnreadableAnnotations() throws {
        let r = try Self.decide(Self.warmPod(annotations: ["locus.dev/warm-deadline": "1h30m"]))
        #expect(r.warmWait?.deadline == Self.now.addingTimeInterval(5400))
        let bad = try Self.decide(Self.warmPod(annotations: ["locus.dev/warm-deadline": "soon", "locus.dev/warm-threshold": "lots"]))
        #expect(bad.warmWait?.deadline == Self.now.addingTimeInterval(600) && bad.warmWait?.threshold == .share(0.9))
        let warnings = bad.response.warnings.joined(separator: "\n")
        #expect(warnings.contains("locus.dev/warm-deadline: \"soon\" is not a duration"), "\(warnings)")
        #expect(warnings.contains("locus.dev/warm-threshold: \"lots\" is neither a share"), "\(warnings)")
        #expect(WarmPolicy.seconds("90s") == 90 && WarmPolicy.seconds("10m") == 600 && WarmPolicy.seconds("0s") == nil)
        #expect(WarmPolicy.seconds("5") == nil && WarmPolicy.seconds("1d") == nil)
    }

    @Test func severalDatasetsWaitOnlyForTheColdOnes() throws {
        let gib: Int64 = 1 << 30
        let r = try Self.decide(
            Self.warmPod(["imagenet", "llama-weights"]),
            view: Self.view([Self.llama: ("node-b", 26 * gib), Self.imagenet: ("node-a", gib)]))
        #expect(Self.gates(r) == ["locus.dev/dataset-warm"])
        #expect(r.warmWait?.datasets == [Self.imagenet])
        // Both warm: no gate.
        let both = try Self.decide(
            Self.warmPod(["imagenet", "llama-weights"]),
            view: Self.view([Self.llama: ("node-b", 26 * gib), Self.imagenet: ("node-a", 140 * gib)]))
        #expect(Self.gates(both).isEmpty)
    }

    @Test func sharedMemoryDatasetsNeverGate() throws {
        // Vineyard's bytes are written by producers; Fluid has no DataLoad for it.
        let r = try Self.decide(Self.warmPod(["features"]))
        #expect(r.outcome == .mutated && Self.gates(r).isEmpty && !r.readsLiveState)
    }

    @Test func onlyPodsThatAskAreGatedAndOnlyWithWarmUpOn() throws {
        #expect(Self.gates(try Self.decide(Self.warmPod(warm: nil))).isEmpty, "no opt-in")
        #expect(!(try Self.decide(Self.warmPod(warm: nil))).readsLiveState)
        #expect(Self.gates(try Self.decide(Self.warmPod(), policy: policy())).isEmpty, "warm-up off: no one would lift the gate")
        let byDefault = Self.warmPolicy { $0.warm.byDefault = true }
        #expect(Self.gates(try Self.decide(Self.warmPod(warm: nil), policy: byDefault)) != [])
        #expect(Self.gates(try Self.decide(Self.warmPod(warm: "false"), policy: byDefault)).isEmpty, "the pod opts out")
        // A namespace labelled locus.dev/warm.
        let cache = try exampleCache()
        cache.namespaces.upsert(Namespace(metadata: ObjectMeta(name: "ml", labels: ["locus.dev/warm": "true"])))
        #expect(Self.gates(try Self.decide(Self.warmPod(warm: nil), cache: cache)) != [])
        // A pod bound to a node is never scheduled (and the API server refuses gates on it).
        var bound = Self.warmPod()
        bound["spec"]?["nodeName"] = "node-a"
        #expect(Self.gates(try Self.decide(bound)).isEmpty)
    }

    /// No replica leads the warm-up controller (its Lease is not renewed: RBAC missing, every
    /// replica down but this one's webhook): a gate would never be lifted, so none is added.
    @Test func noGateWithoutALiveWarmUpController() throws {
        let r = try Self.decide(Self.warmPod(), policy: Self.warmPolicy { $0.warm.controllerAlive = false })
        #expect(Self.gates(r).isEmpty && r.warmWait == nil && r.readsLiveState)
        #expect(r.response.warnings.contains { $0.contains("no live leader") }, "\(r.response.warnings)")
    }

    @Test func runningTheWebhookOnItsOutputChangesNothing() throws {
        let first = try Self.decide(Self.warmPod())
        let again = try Self.decide(try #require(first.pod))
        #expect(again.response.patch.isEmpty, "\(again.response.patch)")
        #expect(Self.gates(again) == ["locus.dev/dataset-warm"])
    }

    @Test func fluidsDatasetUsageAnnotationIsWrittenAndMerged() throws {
        let r = try Self.decide(Self.warmPod(["imagenet", "llama-weights"], warm: nil))
        #expect(r.pod?["metadata"]?["annotations"]?["fluid.io/datasets-in-use"] == "imagenet,llama-weights")
        let merged = try Self.decide(
            Self.warmPod(["llama-weights"], annotations: ["fluid.io/datasets-in-use": "zeta, alpha"], warm: nil))
        #expect(merged.pod?["metadata"]?["annotations"]?["fluid.io/datasets-in-use"] == "alpha,llama-weights,zeta")
        let again = try Self.decide(
            Self.warmPod(["llama-weights"], annotations: ["fluid.io/datasets-in-use": "zeta,llama-weights, zeta"], warm: nil))
        #expect(again.pod?["metadata"]?["annotations"]?["fluid.io/datasets-in-use"] == "llama-weights,zeta", "each name once")
        let none = try Self.decide(makePod(claims: []), policy: policy())
        #expect(none.pod?["metadata"]?["annotations"]?["fluid.io/datasets-in-use"] == nil)
    }

    /// The memo of answers replays a whole answer for a review that repeats an earlier one while
    /// the cluster cache is unchanged; the locality view changes without it. A gate decided on an
    /// older view must not be replayed: the same review, once the data is warm, is not gated.
    @Test func aGateDecisionIsNeverReplayedFromAnOlderView() throws {
        let cache = try exampleCache()
        let index = LocalityIndex()
        let routes = LocusRoutes(
            backend: .fixed(cache), metrics: LocusMetrics(), certificates: nil, maxRequestBytes: 3 << 20, policy: Self.warmPolicy(),
            locality: index)
        func answer(uid: String) throws -> JSONValue {
            let (status, bytes) = routes.answerMutate(ByteBuffer(bytes: admissionReview(pod: Self.warmPod(), uid: uid)))
            #expect(status == .ok)
            return try JSONValue.parse(bytes: bytes)
        }
        func gated(_ review: JSONValue) -> Bool {
            let patch = review["response"]?["patch"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map {
                String(decoding: $0, as: UTF8.self)
            }
            return patch?.contains("locus.dev/dataset-warm") ?? false
        }
        #expect(gated(try answer(uid: "a1b2c3d4-0000-0000-0000-000000000001")))
        index.replace(
            source: .juicefs,
            with: ["node-b": [Self.llama: Observation(bytes: TierBytes(ssd: 26 << 30), confirmedAt: Date(), source: .juicefs)]])
        #expect(!gated(try answer(uid: "a1b2c3d4-0000-0000-0000-000000000002")), "the warm view decides the second review")
        // Without warm-up a replica's review is still answered from the memo.
        let plain = LocusRoutes(backend: .fixed(cache), metrics: LocusMetrics(), certificates: nil, maxRequestBytes: 3 << 20)
        _ = plain.answerMutate(ByteBuffer(bytes: admissionReview(pod: Self.warmPod(), uid: "a1b2c3d4-0000-0000-0000-000000000003")))
        _ = plain.answerMutate(ByteBuffer(bytes: admissionReview(pod: Self.warmPod(), uid: "a1b2c3d4-0000-0000-0000-000000000005")))
        let review = admissionReview(pod: Self.warmPod(), uid: "a1b2c3d4-0000-0000-0000-000000000004")
        #expect(review.withUnsafeBytes { plain.answers?.answer(to: $0, revision: cache.revision) } != nil)
    }
}
