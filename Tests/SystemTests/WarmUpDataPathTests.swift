import AsyncHTTPClient
import Foundation
import JSON
import KubeClient
import KubeTestServer
import Locality
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import TestSupport
import Testing

@testable import WebhookServer

/// Stands in for Fluid's DataLoad controller, which is not here: when a DataLoad appears, it runs
/// the engine's own warm-up (`juicefs warmup`) on the cache worker's mount, as Fluid's JuiceFS
/// loader does on its workers, and writes the DataLoad's phase and conditions as Fluid does.
/// `paused`: it leaves DataLoads alone; `failing`: it warms a path that does not exist, and the
/// real `juicefs warmup` error becomes the DataLoad's failure message.
final class FluidDataLoadStandIn: Sendable {
    enum Mode { case working, paused, failing }
    let mode = Mutex(Mode.working)
    let handled = Mutex<Set<String>>([])
    let client: KubeAPIClient
    let api: FakeAPIServer
    let juicefs: String
    let mountPoint: String
    let durations = Mutex<[String: Double]>([:])

    init(api: FakeAPIServer, client: KubeAPIClient, juicefs: String, mountPoint: String) {
        self.api = api
        self.client = client
        self.juicefs = juicefs
        self.mountPoint = mountPoint
    }

    func run() async {
        while !Task.isCancelled {
            let mode = self.mode.withLock { $0 }
            if mode != .paused, let loads = try? await client.list(DataLoad.self, .dataLoads).items {
                for load in loads where load.isActive {
                    let name = load.metadata.name ?? ""
                    guard handled.withLock({ $0.insert(name).inserted }) else { continue }
                    await warm(load, failing: mode == .failing)
                }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    func warm(_ load: DataLoad, failing: Bool) async {
        write(load, phase: "Executing", message: nil)
        let started = Date()
        let target = failing ? "\(mountPoint)/no-such-directory" : mountPoint
        let juicefs = self.juicefs
        let result = try? await offThePool { try runProcess(juicefs, ["warmup", target]) }
        let ok = result?.status == 0
        durations.withLock { $0[load.metadata.name ?? ""] = Date().timeIntervalSince(started) }
        let why = (result?.stderr ?? "juicefs did not run").split(separator: "\n").last.map(String.init) ?? ""
        write(load, phase: ok ? "Complete" : "Failed", message: ok ? nil : "juicefs warmup \(target): \(why)")
    }

    func write(_ load: DataLoad, phase: String, message: String?) {
        var json = (try? JSONValue.parse(bytes: Array(JSONEncoder().encode(load)))) ?? [:]
        let stamp = KubeTime.time(Date())
        var status: JSONObject = ["phase": .string(phase)]
        if phase == "Complete" || phase == "Failed" {
            status["conditions"] = [
                [
                    "type": .string(phase), "status": "True", "message": .string(message ?? ""), "lastProbeTime": .string(stamp),
                    "lastTransitionTime": .string(stamp),
                ]
            ]
        }
        json["status"] = .object(status)
        api.apply(Resource.dataLoads.path(), kind: "DataLoad", json)
    }
}

/// Warm before scheduling with the real engine: a JuiceFS dataset whose worker cache is empty,
/// the worker's real metrics, Locus serving with warm-up on against the in-process API server,
/// and `juicefs warmup` run when Locus creates the DataLoad.
@Suite("Warm before scheduling with real JuiceFS")
struct WarmUpDataPathTests {
    /// The dataset's size: 64 MiB, or `LOCUS_WARM_MIB` MiB for a measurement.
    static let size = (ProcessInfo.processInfo.environment["LOCUS_WARM_MIB"].flatMap { Int($0) } ?? 64) << 20

    @Test func aColdPodWaitsWhileItsDatasetWarmsThenLandsOnTheWarmNode() async throws {
        var data = Data(count: Self.size)
        data.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in words.indices { words[i] = UInt64(i) &* 0x9E37_79B9_7F4A_7C15 }
        }
        let volume = try await JuiceFSVolume.make(name: "llama", files: ["weights.bin": data])
        defer { volume.stop() }
        let juicefs = try JuiceFSVolume.binary()
        let mountPoint = volume.dir.file("worker-a")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let metricsPort = freePort()
        let mount = try startBackground(
            juicefs,
            ["mount", "--metrics", "127.0.0.1:\(metricsPort)", "--cache-dir", volume.dir.file("cache-a"), volume.metaURL, mountPoint],
            log: volume.dir.file("mount.log"))
        defer {
            _ = try? runProcess(juicefs, ["umount", mountPoint])
            stop(mount)
        }
        try #require(
            await eventually(timeout: .seconds(20)) {
                ((try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? "").contains(" \(mountPoint) fuse.juicefs")
            })

        // The cluster: the example's objects, llama-weights sized as the volume and nothing cached
        // yet by Fluid's count, its one cache worker on node-a.
        let api = try await FakeAPIServer.start()
        try seedExample(api)
        for resource in [Resource.leases, .events, .dataLoads] { api.serve(resource.path(), kind: resource.kind) }
        let example = try YAMLBridge.parse(ExampleState.yaml, source: "example")
        var dataset = try #require(example["datasets"]?.arrayValue?.first { $0["metadata"]?["name"] == "llama-weights" })
        dataset["status"]?["ufsTotal"] = .string("\(Self.size / (1 << 20)).00MiB")
        dataset["status"]?["cacheStates"] = ["cacheCapacity": "1.00GiB", "cached": "0.00B", "cachedPercentage": "0.0%"]
        api.apply(Resource.datasets.path(), kind: "Dataset", dataset)
        api.apply(
            Resource.pods.path(), kind: "Pod",
            workerPodJSON(
                "llama-weights-worker-0", runtime: "llama-weights", role: "juicefs-worker", node: "node-a", portName: "metrics",
                port: metricsPort))
        let kube = try KubeAPIClient(config: api.kubeConfig(token: "t"), requestTimeout: .seconds(5))
        let live = LiveCluster(client: kube, cache: ClusterCache(), logger: Logger(label: "test"))
        // Locus asks the worker's metrics endpoint, as `locus serve` does on a live cluster.
        let engineHTTP = kept(HTTPClient(eventLoopGroupProvider: .singleton))
        let locus = try await RunningLocus.start(backend: .live(live), engineProbe: EngineProbe(http: engineHTTP, timeout: .seconds(1))) {
            $0.warmUp = true
            $0.localityRefreshSeconds = 0.5
            $0.leaseDurationSeconds = 3
            $0.leaseRenewDeadlineSeconds = 2
            $0.leaseRetryPeriodSeconds = 0.5
        }
        let http = try makeClient(caPEM: locus.certs.caCertificatePEM)
        let standIn = FluidDataLoadStandIn(api: api, client: kube, juicefs: juicefs, mountPoint: mountPoint)
        let standInRun = Task { await standIn.run() }
        func get(_ path: String) async throws -> String {
            String(
                buffer: try await http.execute(HTTPClientRequest(url: "\(locus.url)\(path)"), timeout: .seconds(5)).body.collect(
                    upTo: 4 << 20))
        }
        #expect(await eventually(timeout: .seconds(15)) { (try? await get("/readyz"))?.hasPrefix("ready") == true })

        /// The pod as the API server creates it: reviewed by Locus, patched, stored.
        func create(_ name: String, annotations: [String: String] = [:]) async throws -> (pod: JSONValue, gated: Bool, admitted: Date) {
            let pod = makePod(
                name: name, labels: ["locus.dev/inject": "true", "locus.dev/warm": "true"], annotations: annotations,
                claims: ["llama-weights"])
            let answer = try await WebhookClient.post(http, locus, admissionReview(pod: pod, uid: UUID().uuidString.lowercased()))
            let patched = try PatchApplier.apply(try #require(try WebhookClient.patch(of: answer)), to: pod)
            let stored = try await kube.create(RawPod.self, .pods, namespace: "ml", body: try patched.encoded()).json
            let gated = (stored["spec"]?["schedulingGates"]?.arrayValue ?? []).contains { $0["name"] == "locus.dev/dataset-warm" }
            return (stored, gated, Date())
        }
        func gateLifted(_ name: String, within seconds: Int) async -> Bool {
            await eventually(timeout: .seconds(seconds)) {
                guard let pod = try? await kube.get(RawPod.self, .pods, namespace: "ml", name: name).json else { return false }
                return !(pod["spec"]?["schedulingGates"]?.arrayValue ?? []).contains { $0["name"] == "locus.dev/dataset-warm" }
            }
        }
        func outcome(_ name: String) async throws -> String {
            try await kube.get(RawPod.self, .pods, namespace: "ml", name: name).json["metadata"]?["annotations"]?["locus.dev/warm-outcome"]?
                .stringValue ?? ""
        }
        func events(_ name: String) async throws -> [KubeEvent] {
            try await kube.list(KubeEvent.self, .events).items.filter { $0.involvedObject.name == name }
        }

        // 1. The warm-up fails (the real juicefs error): the gate is lifted, saying why.
        standIn.mode.withLock { $0 = .failing }
        let failing = try await create("failing")
        #expect(failing.gated, "an empty cache gates the pod")
        #expect(await gateLifted("failing", within: 60))
        let failedOutcome = try await outcome("failing")
        #expect(failedOutcome.hasPrefix("failed after") && failedOutcome.contains("juicefs warmup"), "\(failedOutcome)")
        #expect(
            await eventually { (try? await events("failing"))?.contains { $0.reason == "WarmUpFailed" && $0.type == "Warning" } == true })

        // 2. Nothing warms it in time: lifted at the deadline, starting cold. Its DataLoad stays
        // pending (the stand-in is paused), for the next pod to reuse.
        try await Task.sleep(for: .seconds(2))  // the failed warm-up ended before the next pod
        standIn.mode.withLock { $0 = .paused }
        let late = try await create("late", annotations: ["locus.dev/warm-deadline": "3s"])
        #expect(late.gated)
        #expect(await gateLifted("late", within: 30))
        #expect(try await outcome("late").hasPrefix("deadline after"))
        #expect(
            await eventually {
                (try? await events("late"))?.contains { $0.reason == "WarmUpDeadline" && $0.message.contains("starts cold") } == true
            })

        // 3. The warm-up runs for real: the worker's cached bytes rise, the gate is lifted, and
        // the extender then puts the pod on the warm node.
        let cold = try await create("trainer")
        #expect(cold.gated)
        standIn.mode.withLock { $0 = .working }
        let trainerLifted = await gateLifted("trainer", within: 120)
        let trainerEvents = try await events("trainer").map(\.message)
        #expect(trainerLifted, "\(trainerEvents)")
        let lifted = Date()
        let waited = lifted.timeIntervalSince(cold.admitted)
        let trainerOutcome = try await outcome("trainer")
        #expect(trainerOutcome.hasPrefix("warm after") || trainerOutcome.hasPrefix("loaded after"), "\(trainerOutcome)")
        let loads = try await kube.list(DataLoad.self, .dataLoads).items
        #expect(loads.count == 2, "one for the failed warm-up, one started for `late` and reused: \(loads.map(\.metadata.name))")
        let cached = live.cache.workerPods.count == 1
        #expect(cached)
        let warmed = await eventually(timeout: .seconds(10)) {
            (locus.server.locality.index.snapshot().observation(
                node: "node-a", dataset: DatasetRef(namespace: "ml", name: "llama-weights"))?
                .bytes.total ?? 0) >= Int64(Self.size) * 9 / 10
        }
        let seen = locus.server.locality.index.snapshot().holders(of: DatasetRef(namespace: "ml", name: "llama-weights"))
        let metricsText = (try? String(contentsOf: URL(string: "http://127.0.0.1:\(metricsPort)/metrics")!, encoding: .utf8)) ?? ""
        #expect(
            warmed,
            "node-a's worker reports the warmed bytes: \(seen); \(metricsText.split(separator: "\n").filter { $0.contains("blockcache_bytes") })"
        )
        var args: JSONValue = ["Pod": cold.pod, "NodeNames": ["node-a", "node-b", "node-c"]]
        args["Pod"]?["spec"]?["schedulingGates"] = nil
        var req = HTTPClientRequest(url: "\(locus.url)/prioritize")
        req.method = .POST
        req.headers.add(name: "Content-Type", value: "application/json")
        req.body = .bytes(ByteBuffer(bytes: args.encodedBytes()))
        let scores = try JSONValue.parse(
            bytes: Array(buffer: try await http.execute(req, timeout: .seconds(5)).body.collect(upTo: 1 << 20)))
        let byNode = Dictionary(
            uniqueKeysWithValues: (scores.arrayValue ?? []).compactMap { e in
                e["Host"]?.stringValue.map { ($0, Int(e["Score"]?.int64Value ?? -1)) }
            })
        #expect(byNode["node-a"] == 10 && (byNode["node-b"] ?? 10) < 10, "\(byNode)")

        // 4. The same pod now that the cache is warm: not gated, schedulable once admitted.
        let reviewStart = Date()
        let warm = try await create("trainer-2")
        let admission = warm.admitted.timeIntervalSince(reviewStart)
        #expect(!warm.gated, "a warm dataset is not waited for")

        let metrics = try await get("/metrics")
        for reason in ["failed", "deadline"] {
            #expect(metrics.contains(#"locus_warm_gate_lifts_total{reason="\#(reason)"} 1"#), "\(reason)")
        }
        #expect(metrics.contains("locus_warm_ups_total{outcome=\"started\"} 2"), "two DataLoads started by Locus")
        let warmupSeconds = standIn.durations.withLock { $0.values.max() ?? 0 }
        print(
            "warm-up measured: \(Self.size >> 20) MiB JuiceFS dataset, empty cache: pod created → gate lifted in "
                + String(format: "%.2f s", waited) + " (juicefs warmup itself " + String(format: "%.2f s", warmupSeconds)
                + "); warm cache: created and admitted ungated in " + String(format: "%.1f ms", admission * 1000)
                + "; outcome: \(trainerOutcome)")

        standInRun.cancel()
        await standInRun.value
        try await http.shutdown()
        await locus.stop()
        try await engineHTTP.shutdown()
        await kube.shutdown()
        await api.stop()
    }
}
