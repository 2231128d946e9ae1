import AsyncHTTPClient
import Foundation
import JSON
import KubeClient
import KubeTestServer
import Locality
import Logging
import NIOCore
import SchedulerExtender
import TestSupport
import Testing

@testable import WebhookServer

@Suite("Locality from Fluid's cache-worker pods")
struct WorkerLocalityTests {
    static func decodePod(_ json: JSONValue) throws -> Pod { try JSONDecoder().decode(Pod.self, from: try json.encoded()) }

    /// Endpoints come from running worker pods of the runtime (its release label), their node and
    /// IP, and the port their container declares under the engine's name; the annotation overrides.
    @Test func endpointsComeFromTheRuntimesWorkerPods() throws {
        let cache = try exampleCache()
        for pod in [
            workerPodJSON(
                "llama-weights-worker-0", runtime: "llama-weights", role: "juicefs-worker", node: "node-b", ip: "10.0.0.6",
                portName: "metrics", port: 14001),
            workerPodJSON(
                "llama-weights-worker-1", runtime: "llama-weights", role: "juicefs-worker", node: "node-a", ip: "fd00::5",
                portName: "metrics", port: 14001),
            workerPodJSON(
                "llama-weights-worker-2", runtime: "llama-weights", role: "juicefs-worker", node: "node-c", ip: nil, portName: "metrics",
                port: 14001, phase: "Pending"),
            workerPodJSON(
                "llama-weights-worker-3", runtime: "llama-weights", role: "juicefs-worker", node: nil, portName: "metrics", port: 14001,
                phase: "Pending"),
            workerPodJSON(
                "llama-weights-worker-4", runtime: "llama-weights", role: "juicefs-worker", node: "node-d", portName: "rpc", port: 14002),
            workerPodJSON("other-worker-0", runtime: "other", role: "juicefs-worker", node: "node-a", portName: "metrics", port: 14003),
            workerPodJSON(
                "llama-weights-worker-0", runtime: "llama-weights", role: "juicefs-worker", node: "node-a", portName: "metrics",
                port: 14004, namespace: "team"),
            workerPodJSON(
                "imagenet-worker-0", runtime: "imagenet", role: "alluxio-worker", node: "node-a", ip: "10.0.0.5", portName: "web",
                port: 20001),
        ] {
            cache.workerPods.upsert(try Self.decodePod(pod))
        }
        let runtime = try #require(cache.runtimes.get(namespace: "ml", name: "llama-weights"))
        let (endpoints, nodes, problems) = JuiceFSEngine.workers.endpoints(of: runtime, cache: cache)
        #expect(endpoints.map(\.url) == ["http://[fd00::5]:14001/metrics", "http://10.0.0.6:14001/metrics"])
        #expect(endpoints.map(\.node) == ["node-a", "node-b"])
        #expect(endpoints.first?.origin == "pod ml/llama-weights-worker-1")
        #expect(nodes == ["node-a", "node-b", "node-c", "node-d"], "a scheduled worker counts for its node even before it answers")
        #expect(problems == ["worker pod ml/llama-weights-worker-4 on node-d declares no container port named metrics"])
        let imagenet = try #require(cache.runtimes.get(namespace: "ml", name: "imagenet"))
        #expect(
            AlluxioEngine.workers.endpoints(of: imagenet, cache: cache).endpoints.map(\.url) == [
                "http://10.0.0.5:20001/metrics/prometheus/"
            ])

        var annotated = runtime
        annotated.metadata.annotations = [WorkerDiscovery.endpointsAnnotation: "node-x=http://10.1.1.1:9567/metrics, bad, node-y=ftp://x"]
        let overridden = JuiceFSEngine.workers.endpoints(of: annotated, cache: cache)
        #expect(overridden.endpoints.map(\.url) == ["http://10.1.1.1:9567/metrics"])
        #expect(overridden.workerNodes == ["node-x"])
    }

    /// An Alluxio worker's gauges (Alluxio 2.9 naming, host-suffixed; see the fixture's README)
    /// become per-tier bytes; the newer names without the host, and a worker with no tier gauges,
    /// are read too.
    @Test func alluxioWorkerMetricsAreReadPerTier() throws {
        let text = String(decoding: try fixture("engines/alluxio-2.9-worker-metrics.txt"), as: UTF8.self)
        #expect(AlluxioEngine.usedCapacity(metrics: text, firstTier: .memory) == TierBytes(memory: 40 << 30, ssd: 10 << 30))
        let plain = "# TYPE Worker_CapacityUsedTierHDD gauge\nWorker_CapacityUsedTierHDD 1.5E9\nWorker_CapacityUsed 1.5E9\n"
        #expect(AlluxioEngine.usedCapacity(metrics: plain, firstTier: .memory) == TierBytes(hdd: 1_500_000_000))
        let untiered = "Worker_CapacityUsed_10_0_0_7 2048.0\nWorker_CapacityTotal_10_0_0_7 4096.0\n"
        #expect(AlluxioEngine.usedCapacity(metrics: untiered, firstTier: .ssd) == TierBytes(ssd: 2048))
        #expect(AlluxioEngine.usedCapacity(metrics: "Worker_CapacityTotal 5\njvm_x 1\n{}\n", firstTier: .memory) == nil)
        #expect(AlluxioEngine.usedCapacity(metrics: "Worker_CapacityUsed NaN\n", firstTier: .memory) == nil)
    }

    /// Two "nodes", each a real `juicefs mount --metrics` of one volume with its own cache
    /// directory, read different amounts; their worker pods sit in the in-process API server and
    /// reach Locus through its label-selected informer. The index holds each node's bytes, follows
    /// a worker that moves to another node, and forgets one that is deleted at the next poll.
    @Test func juicefsWorkersAreFoundFromTheClusterAndFollowed() async throws {
        let two = Data((0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 11) })
        let six = Data((0..<(6 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 40_503 >> 7) })
        let volume = try await JuiceFSVolume.make(name: "llama", files: ["a.bin": two, "b.bin": six])
        defer { volume.stop() }
        let juicefs = try JuiceFSVolume.binary()
        var mounts: [(process: Process, mountPoint: String, port: Int)] = []
        defer {
            for m in mounts {
                _ = try? runProcess(juicefs, ["umount", m.mountPoint])
                stop(m.process)
            }
        }
        for worker in ["a", "b"] {
            let mountPoint = volume.dir.file("mnt-\(worker)")
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
            let port = freePort()
            let process = try startBackground(
                juicefs,
                [
                    "mount", "--metrics", "127.0.0.1:\(port)", "--cache-dir", volume.dir.file("cache-\(worker)"), volume.metaURL,
                    mountPoint,
                ], log: volume.dir.file("mount-\(worker).log"))
            mounts.append((process, mountPoint, port))
            let mounted = await eventually(timeout: .seconds(20)) {
                ((try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? "").contains(" \(mountPoint) fuse.juicefs")
            }
            try #require(mounted, "\((try? String(contentsOfFile: volume.dir.file("mount-\(worker).log"), encoding: .utf8)) ?? "")")
        }
        // Node a reads 2 MiB, node b 8 MiB: each mount's block cache keeps what was read through it.
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(mounts[0].mountPoint)/a.bin")) == two)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(mounts[1].mountPoint)/a.bin")) == two)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(mounts[1].mountPoint)/b.bin")) == six)

        let api = try await FakeAPIServer.start()
        try seedExample(api)
        let pods = Resource.pods.path()
        api.apply(
            pods, kind: "Pod",
            workerPodJSON(
                "llama-weights-worker-0", runtime: "llama-weights", role: "juicefs-worker", node: "node-a", portName: "metrics",
                port: mounts[0].port))
        api.apply(
            pods, kind: "Pod",
            workerPodJSON(
                "llama-weights-worker-1", runtime: "llama-weights", role: "juicefs-worker", node: "node-b", portName: "metrics",
                port: mounts[1].port))
        var app = workerPodJSON("trainer", runtime: "llama-weights", role: "juicefs-worker", node: "node-c", portName: "metrics", port: 1)
        app["metadata"]?["labels"] = ["app": "trainer"]
        api.apply(pods, kind: "Pod", app)
        let kube = try KubeAPIClient(config: api.kubeConfig(token: "t"), requestTimeout: .seconds(2))
        let live = LiveCluster(client: kube, cache: ClusterCache(), logger: .init(label: "test"))
        let run = Task { await live.run() }
        defer { run.cancel() }
        #expect(await eventually(timeout: .seconds(10)) { live.hasSynced })
        #expect(
            live.cache.workerPods.keys.sorted() == ["ml/llama-weights-worker-0", "ml/llama-weights-worker-1"],
            "only Fluid's workers are cached")
        #expect(api.requests.contains { $0.path == pods && $0.query["labelSelector"] == LiveCluster.workerPodSelector })

        let client = kept(HTTPClient(eventLoopGroupProvider: .singleton))
        let index = LocalityIndex()
        var feeds = LocalityFeeds(cache: live.cache, index: index)
        feeds.probe = EngineProbe(http: client, timeout: .seconds(1))
        let ref = DatasetRef(namespace: "ml", name: "llama-weights")
        func ssd(_ node: String) -> Int64? { index.snapshot().observation(node: node, dataset: ref)?.bytes.ssd }
        var problems: [String] = []
        let filled = await eventually(timeout: .seconds(20)) {
            problems = await feeds.pollEngines()[ref]?.problems ?? ["no report"]
            return (ssd("node-a") ?? 0) >= 2 << 20 && (ssd("node-b") ?? 0) >= 8 << 20
        }
        #expect(filled, "node-a \(ssd("node-a") ?? -1), node-b \(ssd("node-b") ?? -1); \(problems)")
        #expect(problems.isEmpty, "\(problems)")
        #expect((ssd("node-a") ?? 0) < 4 << 20, "node-a read only 2 MiB")
        #expect(index.snapshot().observation(node: "node-b", dataset: ref)?.source == .juicefs)
        let plan = PodPlan.of(pod: makePod(claims: ["llama-weights"]), cache: live.cache)
        #expect(
            Extender.prioritize(plan, nodes: ["node-a", "node-b", "node-c"], locality: index.snapshot(), config: ExtenderConfig()).map(
                \.score)[1] == 10)

        // The worker of node a is rescheduled onto node c (same endpoint, as the test has one host).
        var moved = workerPodJSON(
            "llama-weights-worker-0", runtime: "llama-weights", role: "juicefs-worker", node: "node-c", portName: "metrics",
            port: mounts[0].port)
        moved["metadata"]?["uid"] = "uid-moved"
        api.apply(pods, kind: "Pod", moved)
        #expect(
            await eventually(timeout: .seconds(5)) {
                live.cache.workerPods.get(namespace: "ml", name: "llama-weights-worker-0")?.spec?.nodeName == "node-c"
            })
        await feeds.pollEngines()
        #expect((ssd("node-c") ?? 0) >= 2 << 20, "the figure follows the worker to node-c")
        #expect(ssd("node-a") == nil, "node-a holds nothing once its worker is gone, at once rather than at the TTL")

        _ = api.delete(pods, kind: "Pod", namespace: "ml", name: "llama-weights-worker-1")
        #expect(
            await eventually(timeout: .seconds(5)) { live.cache.workerPods.get(namespace: "ml", name: "llama-weights-worker-1") == nil })
        await feeds.pollEngines()
        #expect(ssd("node-b") == nil, "a deleted worker's node is forgotten at the next poll")
        #expect((ssd("node-c") ?? 0) >= 2 << 20)

        // The last worker goes too: the cluster says the runtime has no worker, so nothing is
        // cached anywhere, at once rather than at the TTL.
        _ = api.delete(pods, kind: "Pod", namespace: "ml", name: "llama-weights-worker-0")
        #expect(await eventually(timeout: .seconds(5)) { live.cache.workerPods.count == 0 })
        let report = await feeds.pollEngines()[ref]
        #expect(report?.workerNodes == [], "a runtime without workers is reported as such")
        #expect(ssd("node-c") == nil, "the figures of a runtime whose workers are all gone are dropped")
        try await client.shutdown()
        run.cancel()
        await kube.shutdown()
        await api.stop()
    }

    /// Two Alluxio "workers" (HTTP servers serving worker metrics text at `/metrics/prometheus/`)
    /// found from their pods: each node gets its own per-tier figure, source `alluxio`.
    @Test func alluxioWorkersAreAskedOverHTTP() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let fixtureText = String(decoding: try fixture("engines/alluxio-2.9-worker-metrics.txt"), as: UTF8.self)
        let texts = [
            fixtureText,
            "# TYPE Worker_CapacityUsedTierMEM_10_0_0_6 gauge\nWorker_CapacityUsedTierMEM_10_0_0_6 "
                + "1.073741824E9\nWorker_CapacityUsedTierSSD_10_0_0_6 0.0\n",
        ]
        let python = try executable("python3")
        var servers: [Process] = []
        defer { for s in servers { stop(s) } }
        let cache = try exampleCache()
        for (i, text) in texts.enumerated() {
            let root = dir.file("worker-\(i)")
            try FileManager.default.createDirectory(atPath: "\(root)/metrics/prometheus", withIntermediateDirectories: true)
            try text.write(toFile: "\(root)/metrics/prometheus/index.html", atomically: true, encoding: .utf8)
            let port = freePort()
            servers.append(
                try startBackground(
                    python, ["-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", root], log: dir.file("http-\(i).log")))
            #expect(await eventually { listening(port) })
            cache.workerPods.upsert(
                try Self.decodePod(
                    workerPodJSON(
                        "imagenet-worker-\(i)", runtime: "imagenet", role: "alluxio-worker", node: "node-\(["a", "b"][i])", portName: "web",
                        port: port)))
        }
        let client = kept(HTTPClient(eventLoopGroupProvider: .singleton))
        let index = LocalityIndex()
        var feeds = LocalityFeeds(cache: cache, index: index)
        feeds.probe = EngineProbe(http: client, timeout: .seconds(1))
        let ref = DatasetRef(namespace: "ml", name: "imagenet")
        let report = await feeds.pollEngines()[ref]
        try await client.shutdown()
        #expect(report?.problems == [], "\(report?.problems ?? [])")
        #expect(index.snapshot().observation(node: "node-a", dataset: ref)?.bytes == TierBytes(memory: 40 << 30, ssd: 10 << 30))
        #expect(index.snapshot().observation(node: "node-b", dataset: ref)?.bytes == TierBytes(memory: 1 << 30))
        #expect(index.snapshot().observation(node: "node-a", dataset: ref)?.source == .alluxio)
        let plan = PodPlan.of(pod: makePod(claims: ["imagenet"]), cache: cache)
        let scores = Extender.prioritize(plan, nodes: ["node-a", "node-b", "node-c"], locality: index.snapshot(), config: ExtenderConfig())
            .map(\.score)
        #expect(scores[0] == 10 && scores[1] < scores[0] && scores[2] == 0, "\(scores)")
    }
}
