import Controllers
import Foundation
import JSON
import KubeClient
import KubeTestServer
import Locality
import Logging
import Mutators
import NIOCore
import SchedulerExtender
import Synchronization
import Testing

@testable import WebhookServer

/// What the controller recorded, as the server's metrics would.
final class RecordedWarmUpMetrics: WarmUpMetrics {
    private let state = Mutex<(gated: Int, lifts: [String], warmUps: [String])>((0, [], []))
    func setGatedPods(_ count: Int) { state.withLock { $0.gated = count } }
    func recordLift(reason: LiftReason, waitedSeconds: Double) { state.withLock { $0.lifts.append(reason.rawValue) } }
    func recordWarmUp(_ outcome: String) { state.withLock { $0.warmUps.append(outcome) } }
    var gated: Int { state.withLock { $0.gated } }
    var lifts: [String] { state.withLock { $0.lifts } }
    var warmUps: [String] { state.withLock { $0.warmUps } }
}

/// The warm-up controller against the in-process API server: the example cluster's datasets,
/// pods admitted by Locus's own webhook decision and created through the API, Fluid's DataLoads
/// advanced by the test.
final class WarmUpHarness: Sendable {
    let api: FakeAPIServer
    let client: KubeAPIClient
    let cache: ClusterCache
    let index = LocalityIndex()
    let metrics = RecordedWarmUpMetrics()
    let controller: WarmUpController
    let run: Task<Void, Never>

    init(leader: Bool = true) async throws {
        api = try await FakeAPIServer.start()
        api.serve(Resource.pods.path(), kind: "Pod")
        api.serve(Resource.dataLoads.path(), kind: "DataLoad")
        api.serve(Resource.events.path(), kind: "Event")
        client = try KubeAPIClient(config: api.kubeConfig(token: "t"), requestTimeout: .seconds(2))
        cache = try exampleCache()
        controller = WarmUpController(
            client: client, placement: WarmPlacement(cache: cache, extender: ExtenderConfig()), locality: index,
            isLeader: { leader }, events: EventRecorder(client: client, instance: "test", logger: Logger(label: "test")),
            metrics: metrics, period: .milliseconds(100), logger: Logger(label: "test"))
        let controller = controller
        run = Task { await controller.run() }
    }

    /// Another replica's controller on the same API server, from its first pass (a restart, or a
    /// failover to a replica that did nothing so far).
    func replica(leader: @escaping @Sendable () -> Bool) -> (WarmUpController, Task<Void, Never>) {
        let other = WarmUpController(
            client: client, placement: WarmPlacement(cache: cache, extender: ExtenderConfig()), locality: index, isLeader: leader,
            events: EventRecorder(client: client, instance: "other", logger: Logger(label: "test")), metrics: nil,
            period: .milliseconds(100), logger: Logger(label: "test"))
        return (other, Task { await other.run() })
    }

    func stop() async {
        run.cancel()
        await run.value
        await client.shutdown()
        await api.stop()
    }

    /// Admits `name` as the webhook does (warm-up on) and creates it through the API.
    @discardableResult
    func create(_ name: String, claims: [String], annotations: [String: String] = [:], gates: [String] = []) async throws -> JSONValue {
        var pod = makePod(
            name: name, labels: ["locus.dev/inject": "true", "locus.dev/warm": "true"], annotations: annotations, claims: claims)
        if !gates.isEmpty { pod["spec"]?["schedulingGates"] = .array(gates.map { ["name": .string($0)] }) }
        var policy = AdmissionPolicy()
        policy.warm.enabled = true
        let r = Admission.review(pod: pod, namespace: "ml", uid: name, catalog: cache, policy: policy, locality: index.snapshot())
        let admitted = try #require(r.pod)
        #expect(r.warmWait != nil, "\(name) is gated")
        return try await client.create(RawPod.self, .pods, namespace: "ml", body: try admitted.encoded()).json
    }

    func pod(_ name: String) async throws -> JSONValue { try await client.get(RawPod.self, .pods, namespace: "ml", name: name).json }

    func gates(_ name: String) async throws -> [String] {
        (try await pod(name)["spec"]?["schedulingGates"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }

    func lifted(_ name: String) async -> Bool {
        await eventually(timeout: .seconds(10)) { (try? await self.gates(name).contains("locus.dev/dataset-warm")) == false }
    }

    func dataLoads(_ dataset: String) async throws -> [DataLoad] {
        try await client.list(DataLoad.self, .dataLoads).items.filter { $0.spec?.dataset?.name == dataset }
    }

    func events(_ pod: String) async throws -> [KubeEvent] {
        try await client.list(KubeEvent.self, .events).items.filter { $0.involvedObject.name == pod }
    }

    /// The Event of `reason` on `pod`, once written (it follows the action it reports).
    func event(_ pod: String, _ reason: String) async -> KubeEvent? {
        var found: KubeEvent?
        _ = await eventually(timeout: .seconds(5)) {
            found = try? await self.events(pod).first { $0.reason == reason }
            return found != nil
        }
        return found
    }

    /// Fluid's controller moving a DataLoad on.
    func finish(_ load: DataLoad, phase: String, message: String? = nil) {
        var json: JSONValue = (try? JSONValue.parse(bytes: Array(JSONEncoder().encode(load)))) ?? [:]
        let stamp = WarmWait.timestamp(Date())
        json["status"] = [
            "phase": .string(phase), "duration": "3s",
            "conditions": [
                [
                    "type": .string(phase), "status": "True", "reason": .string(phase == "Failed" ? "LoaderFailed" : "DataLoadComplete"),
                    "message": .string(message ?? ""), "lastProbeTime": .string(stamp), "lastTransitionTime": .string(stamp),
                ]
            ],
        ]
        api.apply(Resource.dataLoads.path(), kind: "DataLoad", json)
    }

    /// A DataLoad of `dataset` someone else made, running.
    func someonesDataLoad(_ dataset: String) {
        api.apply(
            Resource.dataLoads.path(), kind: "DataLoad",
            [
                "metadata": [
                    "name": .string("\(dataset)-by-hand"), "namespace": "ml", "creationTimestamp": .string(WarmWait.timestamp(Date())),
                ],
                "spec": ["dataset": ["name": .string(dataset), "namespace": "ml"]],
                "status": ["phase": "Executing"],
            ])
    }
}

@Suite("Warm before scheduling: the warm-up controller against the in-process API server")
struct WarmUpControllerTests {
    @Test func oneDataLoadPerDatasetCreatedOnceReusedAndItsCompletionLiftsEveryWaitingPod() async throws {
        let h = try await WarmUpHarness()
        try await h.create("first", claims: ["llama-weights"])
        #expect(await eventually { (try? await h.dataLoads("llama-weights").count) == 1 })
        try await h.create("second", claims: ["llama-weights"])
        try await Task.sleep(for: .seconds(1))
        let loads = try await h.dataLoads("llama-weights")
        #expect(loads.count == 1, "one warm-up per dataset, however many pods wait: \(loads.map(\.metadata.name))")
        let load = try #require(loads.first)
        #expect(load.metadata.labels?["app.kubernetes.io/managed-by"] == "locus")
        #expect(load.metadata.labels?["locus.dev/warm-dataset"] == "llama-weights")
        #expect(load.spec?.dataset == DataLoad.Target(name: "llama-weights", namespace: "ml") && load.metadata.namespace == "ml")
        #expect(h.metrics.warmUps == ["started"])
        #expect(h.metrics.gated == 2)
        let started = await h.event("first", "WarmUpStarted")
        #expect(started?.message.contains("started DataLoad ml/\(load.metadata.name ?? "")") == true, "\(started?.message ?? "none")")
        #expect(await h.event("second", "WarmUpStarted")?.message.contains("waits for DataLoad") == true)
        #expect(try await h.gates("first") == ["locus.dev/dataset-warm"], "held while the warm-up runs")

        // A DataLoad someone else runs is reused.
        h.someonesDataLoad("imagenet")
        try await h.create("third", claims: ["imagenet"])
        try await Task.sleep(for: .seconds(1))
        #expect(try await h.dataLoads("imagenet").map(\.metadata.name) == ["imagenet-by-hand"])
        #expect(await h.event("third", "WarmUpStarted")?.message.contains("waits for DataLoad ml/imagenet-by-hand") == true)

        h.finish(load, phase: "Complete")
        #expect(await h.lifted("first"))
        #expect(await h.lifted("second"))
        let pod = try await h.pod("first")
        #expect(pod["metadata"]?["labels"]?["locus.dev/warm-gated"] == nil, "the controller's label goes with the gate")
        let outcome = pod["metadata"]?["annotations"]?["locus.dev/warm-outcome"]?.stringValue ?? ""
        #expect(outcome.hasPrefix("loaded after ") && outcome.contains("DataLoad \(load.metadata.name ?? "") completed"), "\(outcome)")
        #expect(pod["spec"]?["schedulingGates"] == nil, "no gate left: the field goes")
        let complete = await h.event("first", "WarmUpComplete")
        #expect(complete?.type == "Normal" && complete?.involvedObject.uid == pod["metadata"]?["uid"]?.stringValue)
        #expect(await eventually { h.metrics.lifts.sorted() == ["loaded", "loaded"] && h.metrics.warmUps == ["started", "completed"] })
        #expect(try await h.gates("third") == ["locus.dev/dataset-warm"], "imagenet's warm-up still runs")
        await h.stop()
    }

    @Test func aFailedWarmUpTheDeadlineAndAWarmNodeEachLiftTheGate() async throws {
        let h = try await WarmUpHarness()
        // Failed: the pod starts with the cache as it is, and says why.
        h.someonesDataLoad("imagenet")
        try await h.create("failing", claims: ["imagenet"])
        try await Task.sleep(for: .milliseconds(500))
        h.finish(try #require(try await h.dataLoads("imagenet").first), phase: "Failed", message: "the loader job failed: OOMKilled")
        #expect(await h.lifted("failing"))
        let failed = await h.event("failing", "WarmUpFailed")
        #expect(
            failed?.type == "Warning" && failed?.message.contains("the loader job failed: OOMKilled") == true,
            "\(failed?.message ?? "none")")

        // Deadline: the warm-up never ends.
        try await h.create("late", claims: ["llama-weights"], annotations: ["locus.dev/warm-deadline": "2s"])
        #expect(await h.lifted("late"))
        let late = await h.event("late", "WarmUpDeadline")
        #expect(late?.type == "Warning" && late?.message.contains("the pod starts cold") == true, "\(late?.message ?? "none")")

        // Warm where the extender would place it: node-b holds all of llama-weights.
        try await h.create("warming", claims: ["llama-weights"])
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await h.gates("warming") == ["locus.dev/dataset-warm"])
        h.index.replace(
            source: .juicefs,
            with: [
                "node-b": [
                    DatasetRef(namespace: "ml", name: "llama-weights"): Observation(
                        bytes: TierBytes(ssd: 26 << 30), confirmedAt: Date(), source: .juicefs)
                ]
            ])
        #expect(await h.lifted("warming"))
        let outcome = try await h.pod("warming")["metadata"]?["annotations"]?["locus.dev/warm-outcome"]?.stringValue ?? ""
        #expect(outcome.hasPrefix("warm after") && outcome.contains("on node-b, the node the extender picks"), "\(outcome)")
        #expect(await h.event("warming", "DatasetWarm")?.type == "Normal")
        #expect(await eventually { Set(h.metrics.lifts) == ["failed", "deadline", "warm"] })
        await h.stop()
    }

    @Test func othersGatesStayAndAGoneDatasetOrAHandLiftAreTidiedUp() async throws {
        let h = try await WarmUpHarness()
        try await h.create("quota", claims: ["imagenet"], gates: ["example.com/quota"])
        #expect(try await h.gates("quota") == ["example.com/quota", "locus.dev/dataset-warm"])
        h.index.replace(
            source: .alluxio,
            with: [
                "node-a": [
                    DatasetRef(namespace: "ml", name: "imagenet"): Observation(
                        bytes: TierBytes(ssd: 140 << 30), confirmedAt: Date(), source: .alluxio)
                ]
            ])
        #expect(await h.lifted("quota"))
        #expect(try await h.gates("quota") == ["example.com/quota"], "only Locus's gate is removed")

        // The dataset is deleted while the pod waits.
        try await h.create("orphan", claims: ["llama-weights"])
        try await Task.sleep(for: .milliseconds(300))
        h.cache.datasets.delete(try #require(h.cache.datasets.get(namespace: "ml", name: "llama-weights")))
        #expect(await h.lifted("orphan"))
        #expect(await h.event("orphan", "WarmUpAbandoned")?.message.contains("ml/llama-weights is gone") == true)

        // Someone lifts the gate by hand: the label is cleared, the pod told.
        h.index.replace(source: .alluxio, with: [:])
        try await h.create("manual", claims: ["imagenet"])
        _ = try await h.client.patch(
            ObjectHeader.self, .pods, namespace: "ml", name: "manual",
            body: Data(#"[{"op":"remove","path":"/spec/schedulingGates"}]"#.utf8), patchType: .json)
        #expect(
            await eventually {
                guard let pod = try? await h.pod("manual") else { return false }
                return pod["metadata"]?["labels"]?["locus.dev/warm-gated"] == nil
            })
        #expect(await h.event("manual", "WarmUpGateRemoved") != nil)
        await h.stop()
    }

    /// The leader goes away with pods gated and a warm-up running: the replica that takes over
    /// reads what each pod waits for and until when from the pods, and the warm-up from the
    /// DataLoads, so it reuses the running warm-up and keeps each deadline.
    @Test func aNewLeaderPicksUpGatedPodsTheirDeadlinesAndTheRunningWarmUp() async throws {
        let leading = Lines()
        leading.append("first")
        let h = try await WarmUpHarness(leader: false)
        let (_, first) = h.replica { leading.all.last == "first" }
        try await h.create("patient", claims: ["llama-weights"])
        try await h.create("hurried", claims: ["imagenet"], annotations: ["locus.dev/warm-deadline": "3s"])
        #expect(await eventually { (try? await h.dataLoads("llama-weights").count) == 1 })
        first.cancel()
        await first.value
        leading.append("second")
        let (_, second) = h.replica { leading.all.last == "second" }
        #expect(await h.lifted("hurried"), "the deadline written at admission holds across the failover")
        #expect(await h.event("hurried", "WarmUpDeadline") != nil)
        try await Task.sleep(for: .milliseconds(500))
        let loads = try await h.dataLoads("llama-weights")
        #expect(loads.count == 1, "the running warm-up is reused: \(loads.map(\.metadata.name))")
        h.finish(try #require(loads.first), phase: "Complete")
        #expect(await h.lifted("patient"))
        second.cancel()
        await second.value
        await h.stop()
    }

    /// The lift applies only to the gates the controller read: a concurrent change makes the
    /// API server refuse it (422), and nothing of the change is lost.
    @Test func theLiftCarriesItsPrecondition() async throws {
        let h = try await WarmUpHarness(leader: false)
        let created = try await h.create("raced", claims: ["imagenet"], gates: ["example.com/quota"])
        let raw = try JSONDecoder().decode(RawPod.self, from: try created.encoded())
        let lift = GatedPod(raw).liftPatch(outcome: "warm")
        // Another controller lifts its own gate first.
        _ = try await h.client.patch(
            ObjectHeader.self, .pods, namespace: "ml", name: "raced",
            body: Data(#"[{"op":"replace","path":"/spec/schedulingGates","value":[{"name":"locus.dev/dataset-warm"}]}]"#.utf8),
            patchType: .json)
        do {
            _ = try await h.client.patch(
                ObjectHeader.self, .pods, namespace: "ml", name: "raced", body: try lift.encoded(), patchType: .json)
            Issue.record("a lift over changed gates applied")
        } catch let error as KubeAPIError {
            // Refused by the patch's own test, before any validation of what it would write.
            #expect(error.isInvalid && "\(error)".contains("testing value /spec/schedulingGates failed"), "\(error)")
        }
        #expect(try await h.gates("raced") == ["locus.dev/dataset-warm"])
        // Not the leader: nothing is created or lifted.
        try await Task.sleep(for: .seconds(1))
        #expect(try await h.dataLoads("imagenet").isEmpty && h.metrics.gated == 0)
        await h.stop()
    }
}
