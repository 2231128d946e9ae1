import Controllers
import Foundation
import JSON
import KubeClient
import KubeTestServer
import Locality
import Logging
import Mutators
import SchedulerExtender
import Synchronization
import Testing

/// What the controller recorded, as the server's metrics would.
public final class RecordedWarmUpMetrics: WarmUpMetrics {
    private let state = Mutex<(gated: Int, lifts: [String], warmUps: [String])>((0, [], []))
    public func setGatedPods(_ count: Int) { state.withLock { $0.gated = count } }
    public func recordLift(reason: LiftReason, waitedSeconds: Double) { state.withLock { $0.lifts.append(reason.rawValue) } }
    public func recordWarmUp(_ outcome: String) { state.withLock { $0.warmUps.append(outcome) } }
    public var gated: Int { state.withLock { $0.gated } }
    public var lifts: [String] { state.withLock { $0.lifts } }
    public var warmUps: [String] { state.withLock { $0.warmUps } }
}

/// The warm-up controller against the in-process API server: the example cluster's datasets,
/// pods admitted by Locus's own webhook decision and created through the API, Fluid's DataLoads
/// advanced by the test.
public final class WarmUpHarness: Sendable {
    public let api: FakeAPIServer
    public let client: KubeAPIClient
    public let cache: ClusterCache
    public let index = LocalityIndex()
    public let metrics = RecordedWarmUpMetrics()
    public let controller: WarmUpController
    public let run: Task<Void, Never>

    public init(leader: Bool = true) async throws {
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
    public func replica(leader: @escaping @Sendable () -> Bool) -> (WarmUpController, Task<Void, Never>) {
        let other = WarmUpController(
            client: client, placement: WarmPlacement(cache: cache, extender: ExtenderConfig()), locality: index, isLeader: leader,
            events: EventRecorder(client: client, instance: "other", logger: Logger(label: "test")), metrics: nil,
            period: .milliseconds(100), logger: Logger(label: "test"))
        return (other, Task { await other.run() })
    }

    public func stop() async {
        run.cancel()
        await run.value
        await client.shutdown()
        await api.stop()
    }

    /// Admits `name` as the webhook does (warm-up on) and creates it through the API.
    @discardableResult
    public func create(_ name: String, claims: [String], annotations: [String: String] = [:], gates: [String] = []) async throws
        -> JSONValue
    {
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

    public func pod(_ name: String) async throws -> JSONValue { try await client.get(RawPod.self, .pods, namespace: "ml", name: name).json }

    public func gates(_ name: String) async throws -> [String] {
        (try await pod(name)["spec"]?["schedulingGates"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }

    public func lifted(_ name: String) async -> Bool {
        await eventually(timeout: .seconds(10)) { (try? await self.gates(name).contains("locus.dev/dataset-warm")) == false }
    }

    public func dataLoads(_ dataset: String) async throws -> [DataLoad] {
        try await client.list(DataLoad.self, .dataLoads).items.filter { $0.spec?.dataset?.name == dataset }
    }

    public func events(_ pod: String) async throws -> [KubeEvent] {
        try await client.list(KubeEvent.self, .events).items.filter { $0.involvedObject.name == pod }
    }

    /// The Event of `reason` on `pod`, once written (it follows the action it reports).
    public func event(_ pod: String, _ reason: String) async -> KubeEvent? {
        var found: KubeEvent?
        _ = await eventually(timeout: .seconds(5)) {
            found = try? await self.events(pod).first { $0.reason == reason }
            return found != nil
        }
        return found
    }

    /// An engine's figure: `bytes` of `dataset` (in `ml`) cached on `node`, now.
    public func cache(_ dataset: String, bytes: Int64, on node: String, source: LocalitySource) {
        let ref = DatasetRef(namespace: "ml", name: dataset)
        index.replace(source: source, with: [node: [ref: Observation(bytes: TierBytes(ssd: bytes), confirmedAt: Date(), source: source)]])
    }

    /// Fluid's controller moving a DataLoad on.
    public func finish(_ load: DataLoad, phase: String, message: String? = nil) {
        var json: JSONValue = (try? JSONValue.parse(bytes: Array(JSONEncoder().encode(load)))) ?? [:]
        let stamp = KubeTime.time(Date())
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
    public func someonesDataLoad(_ dataset: String) {
        api.apply(
            Resource.dataLoads.path(), kind: "DataLoad",
            [
                "metadata": [
                    "name": .string("\(dataset)-by-hand"), "namespace": "ml", "creationTimestamp": .string(KubeTime.time(Date())),
                ],
                "spec": ["dataset": ["name": .string(dataset), "namespace": "ml"]],
                "status": ["phase": "Executing"],
            ])
    }
}

/// Lines recorded from several tasks.
public final class Lines: Sendable {
    private let lines = Mutex<[String]>([])
    public init() {}
    public func append(_ line: String) { lines.withLock { $0.append(line) } }
    public var all: [String] { lines.withLock { $0 } }
}
