import AsyncHTTPClient
import Foundation
import JSON
import KubeClient
import Locality
import SchedulerExtender
import TestSupport
import Testing

@testable import WebhookServer

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP listener on loopback that accepts and never answers: a hanging engine.
func startHangingListener(port: Int) throws -> Process {
    try startBackground(
        "/usr/bin/env",
        ["python3", "-c", "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',\(port))); s.listen(16); time.sleep(300)"], log: nil)
}

/// A TCP listener on loopback that answers every request with an HTTP error and closes:
/// an endpoint that speaks another protocol.
func startGarbageListener(port: Int) throws -> Process {
    try startBackground(
        "/usr/bin/env",
        [
            "python3", "-c",
            """
            import socket, time
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', \(port))); s.listen(16)
            end = time.time() + 300
            while time.time() < end:
                c, _ = s.accept(); c.recv(65536); c.sendall(b'HTTP/1.1 400 Bad Request\\r\\nContent-Length: 0\\r\\n\\r\\n'); c.close()
            """,
        ], log: nil)
}

@Suite("Locality from the real engines", .serialized)
struct EngineTests {
    /// The recorded metrics of a real `juicefs mount --metrics` are read for the right volume only.
    @Test func juicefsMetricsTextIsReadPerVolume() throws {
        let text = String(decoding: try fixture("engines/juicefs-metrics.txt"), as: UTF8.self)
        #expect(JuiceFSEngine.blockCacheBytes(metrics: text, volume: "vol1") == 20_992_000)
        #expect(JuiceFSEngine.blockCacheBytes(metrics: text, volume: "other") == nil)
        #expect(JuiceFSEngine.blockCacheBytes(metrics: "garbage\n{}", volume: "vol1") == nil)
        let two = #"juicefs_blockcache_bytes{mp="/a",vol_name="v"} 10"# + "\n" + #"juicefs_blockcache_bytes{vol_name="v",mp="/b"} 5e1"#
        #expect(JuiceFSEngine.blockCacheBytes(metrics: two, volume: "v") == 60, "two mount points of one volume add up")
    }

    /// A real JuiceFS (Redis metadata, a local directory as object storage, FUSE-mounted) with its
    /// cache filled by reading through it: the index reports the bytes on the right node, scores it
    /// highest, and endpoints that refuse, hang or answer garbage change nothing.
    @Test func realJuiceFSBytesLandOnTheRightNode() async throws {
        let juicefs = try executable("juicefs")
        let redis = try executable("redis-server")
        let dir = try TempDir()
        defer { dir.cleanup() }
        for sub in ["bucket", "mnt", "cache"] {
            try FileManager.default.createDirectory(atPath: dir.file(sub), withIntermediateDirectories: true)
        }
        let redisPort = freePort()
        let redisProcess = Process()
        redisProcess.executableURL = URL(fileURLWithPath: redis)
        redisProcess.arguments = ["--port", "\(redisPort)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.path]
        redisProcess.standardOutput = FileHandle.nullDevice
        redisProcess.standardError = FileHandle.nullDevice  // an inherited pipe would keep swift-test waiting if this process died
        try redisProcess.run()
        defer { stop(redisProcess) }
        let hangPort = freePort()
        let hang = try startHangingListener(port: hangPort)
        defer { stop(hang) }
        let meta = "redis://127.0.0.1:\(redisPort)/1"
        #expect(
            await eventually(timeout: .seconds(10)) {
                (try? runProcess(juicefs, ["status", meta]))?.stderr.contains("connection refused") == false
            })
        let format = try runProcess(juicefs, ["format", "--storage", "file", "--bucket", dir.file("bucket") + "/", meta, "datasets"])
        #expect(format.status == 0, "\(format.stderr)")
        let metricsPort = freePort()
        // The mount runs in the foreground as our child (a daemonised mount would keep our pipes open).
        let mountProcess = Process()
        mountProcess.executableURL = URL(fileURLWithPath: juicefs)
        mountProcess.arguments = [
            "mount", "--metrics", "127.0.0.1:\(metricsPort)", "--cache-dir", dir.file("cache"), meta, dir.file("mnt"),
        ]
        _ = FileManager.default.createFile(atPath: dir.file("mount.log"), contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: dir.file("mount.log")))
        mountProcess.standardOutput = log
        mountProcess.standardError = log
        try mountProcess.run()
        defer {
            _ = try? runProcess(juicefs, ["umount", dir.file("mnt")])
            stop(mountProcess)
        }
        let mounted = await eventually(timeout: .seconds(20)) {
            ((try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? "").contains(" \(dir.file("mnt")) fuse.juicefs")
        }
        try #require(mounted, "\((try? String(contentsOfFile: dir.file("mount.log"), encoding: .utf8)) ?? "")")
        // Fill the cache by writing and reading through the mount.
        let data = Data((0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
        try data.write(to: URL(fileURLWithPath: dir.file("mnt/shard-0.bin")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.file("mnt/shard-0.bin"))) == data)

        let cache = try exampleCache(
            extra: """
                runtimes:
                  - kind: JuiceFSRuntime
                    metadata:
                      name: llama-weights
                      namespace: ml
                      annotations:
                        locus.dev/juicefs-volume: datasets
                        locus.dev/metrics-endpoints: "node-b=http://127.0.0.1:\(metricsPort)/metrics,node-a=http://127.0.0.1:1/metrics,node-c=http://127.0.0.1:\(hangPort)/metrics,node-d=http://127.0.0.1:\(redisPort)/metrics"
                    spec: {tieredstore: {levels: [{mediumtype: SSD, quota: 60Gi}]}}
                """)
        let client = kept(HTTPClient(eventLoopGroupProvider: .singleton))
        let index = LocalityIndex()
        var feeds = LocalityFeeds(cache: cache, index: index)
        feeds.probe = EngineProbe(http: client, timeout: .milliseconds(500))
        let ref = DatasetRef(namespace: "ml", name: "llama-weights")
        let started = ContinuousClock.now
        var problems: [String] = []
        let seen = await eventually(timeout: .seconds(20)) {
            problems = await feeds.pollEngines()[ref]?.problems ?? []
            return (index.snapshot().observation(node: "node-b", dataset: ref)?.bytes.ssd ?? 0) >= 8 << 20
        }
        try await client.shutdown()
        #expect(problems.count == 3, "refused, hanging and garbage endpoints are each reported: \(problems)")
        #expect(problems.contains { $0.contains("node-c") && $0.contains("no answer within") }, "\(problems)")
        #expect(seen, "JuiceFS's block cache holds the 8 MiB read through it, on node-b")
        let o = index.snapshot().observation(node: "node-b", dataset: ref)
        #expect(o?.source == .juicefs && o?.estimated == false)
        for node in ["node-a", "node-c", "node-d"] {
            #expect(
                index.snapshot().observation(node: node, dataset: ref) == nil, "\(node): refused, hanging or garbage endpoints add nothing")
        }
        #expect(ContinuousClock.now - started < .seconds(20), "a hanging endpoint is bounded by the timeout")
        let plan = PodPlan.of(pod: makePod(claims: ["llama-weights"]), cache: cache)
        let scores = Extender.prioritize(plan, nodes: ["node-a", "node-b", "node-c"], locality: index.snapshot(), config: ExtenderConfig())
        #expect(scores.map(\.score) == [0, 10, 0])
    }

    /// What the engines said becomes series an operator can graph and alert on.
    @Test func engineReportsBecomeMetrics() {
        let metrics = LocusMetrics()
        let report = EngineReport(
            source: .vineyard, problems: ["vineyardd 10.0.0.9:9600: no answer within 2 seconds"],
            memory: ["node-a": (used: 9 << 20, limit: 128 << 20)])
        metrics.recordEngineReport(source: "vineyard", dataset: "ml/features", report: report)
        let text = String(decoding: metrics.render(), as: UTF8.self)
        #expect(text.contains(#"locus_engine_unanswered_endpoints_count{engine="vineyard",dataset="ml/features"} 1"#), "\(text)")
        #expect(
            text.contains(#"locus_engine_shared_memory_used_bytes{engine="vineyard",dataset="ml/features",node="node-a"} 9437184"#),
            "\(text)")
        #expect(
            text.contains(#"locus_engine_shared_memory_limit_bytes{engine="vineyard",dataset="ml/features",node="node-a"} 134217728"#),
            "\(text)")
    }

    /// The replies of a real vineyardd (recorded from 0.24.2): a local tensor counts on its
    /// instance, a global sequence counts each member where it lives, nothing counts twice.
    @Test func vineyardRepliesAreReadPerInstance() throws {
        let replies = try JSONValue.parse(try fixture("engines/vineyard-rpc-replies.json"))
        let content = try #require(replies["get_data_reply"]?["content"]?.objectValue)
        let bytes = VineyardRPC.bytesPerInstance(Array(content.values))
        #expect(bytes == [1: 4_194_304 + 2_097_152, 0: 1_048_576])
        #expect(VineyardRPC.bytesPerInstance([.string("garbage"), .object(["instance_id": .integer(-1), "nbytes": .integer(5)])]).isEmpty)
        #expect(VineyardRPC.parse(endpoint: "features-worker-0.features-worker.ml:9600")! == ("features-worker-0.features-worker.ml", 9600))
        #expect(VineyardRPC.parse(endpoint: "[::1]:9600")! == ("::1", 9600))
        #expect(VineyardRPC.parse(endpoint: "no-port") == nil && VineyardRPC.parse(endpoint: "h:70000") == nil)
    }

    /// Two real vineyardd instances sharing one etcd, as two "nodes": objects put with the
    /// vineyard Python client land in the index on the node of the instance that holds them, the
    /// node holding most scores highest with the shared-memory bonus, objects outside the
    /// dataset's names do not count, and endpoints that hang or speak another protocol are
    /// reported without changing the answer.
    @Test func realVineyardBytesLandOnTheRightNode() async throws {
        let (etcd, vineyardd) = try vineyardBinaries()
        let dir = try TempDir()
        defer { dir.cleanup() }
        let (etcdProcess, client) = try await startEtcd(etcd, in: dir)
        defer { stop(etcdProcess) }
        // One instance after the other: two started in the same instant race for the same rank.
        var instances: [(node: String, port: Int, socket: String, process: Process)] = []
        defer { for i in instances { stop(i.process) } }
        for node in ["node-a", "node-b"] {
            let port = freePort()
            let socket = dir.file("\(node).sock")
            let p = try startBackground(
                vineyardd,
                [
                    "--socket", socket, "--rpc_socket_port", "\(port)", "--size", "128Mi", "--meta", "etcd",
                    "--etcd_endpoint", "http://127.0.0.1:\(client)", "--etcd_prefix", "/locus-test",
                ], environment: ["MY_NODE_NAME": node], log: dir.file("\(node).log"))
            instances.append((node, port, socket, p))
            try #require(
                await eventually(timeout: .seconds(30)) { listening(port) && FileManager.default.fileExists(atPath: socket) },
                "vineyardd for \(node) did not start: \((try? String(contentsOfFile: dir.file("\(node).log"), encoding: .utf8)) ?? "")")
        }
        // 1 MiB on node-a and 4 MiB on node-b named as the dataset's parts, a global object over
        // both (counted once), and 8 MiB on node-a under another name (not the dataset's).
        let put = try runBounded(
            "/usr/bin/env",
            [
                "python3", "-c",
                """
                import time, vineyard, numpy as np
                a = vineyard.connect('\(instances[0].socket)'); b = vineyard.connect('\(instances[1].socket)')
                def put(c, n, name):
                    o = c.put(np.ones(n, dtype=np.uint8)); c.persist(o); c.put_name(o, name); return o
                x = put(a, 1 << 20, 'features/part-0'); y = put(b, 4 << 20, 'features/part-1'); put(a, 8 << 20, 'scratch/tmp')
                m = vineyard.ObjectMeta(); m['typename'] = 'vineyard::Sequence'; m['size_'] = 2; m.set_global(True)
                m.add_member('__elements_-0', x); m.add_member('__elements_-1', y); m['__elements_-size'] = 2
                for attempt in range(100):  # b's object reaches a's metadata through etcd, not at once
                    try:
                        g = a.create_metadata(m); break
                    except Exception:
                        time.sleep(0.1)
                a.persist(g.id); a.put_name(g.id, 'features/all')
                """,
            ], timeout: 60, log: dir.file("put.log"))
        try #require(
            put == 0, "putting objects failed or hung: \((try? String(contentsOfFile: dir.file("put.log"), encoding: .utf8)) ?? "")")

        let (hangPort, garbagePort) = (freePort(), freePort())
        let hang = try startHangingListener(port: hangPort)
        let garbage = try startGarbageListener(port: garbagePort)
        defer {
            stop(hang)
            stop(garbage)
        }
        try #require(await eventually { listening(hangPort) && listening(garbagePort) })
        let endpoints = [
            "127.0.0.1:\(instances[0].port)", "127.0.0.1:\(instances[1].port)", "127.0.0.1:\(hangPort)", "127.0.0.1:\(garbagePort)",
        ]
        let cache = try exampleCache(
            extra: """
                runtimes:
                  - kind: VineyardRuntime
                    metadata:
                      name: features
                      namespace: ml
                      annotations: {locus.dev/rpc-endpoints: "\(endpoints.joined(separator: ","))", locus.dev/vineyard-names: "features/*"}
                    spec: {tieredstore: {levels: [{mediumtype: MEM, quota: 8Gi}]}}
                """)
        let http = kept(HTTPClient(eventLoopGroupProvider: .singleton))
        defer { _ = http.shutdown() }
        let index = LocalityIndex()
        var feeds = LocalityFeeds(cache: cache, index: index)
        feeds.probe = EngineProbe(http: http, timeout: .milliseconds(1500))
        let ref = DatasetRef(namespace: "ml", name: "features")
        let started = ContinuousClock.now
        let report = try #require(await feeds.pollEngines()[ref])
        #expect(ContinuousClock.now - started < .seconds(10), "a hanging endpoint is bounded by the timeout")
        let a = index.snapshot().observation(node: "node-a", dataset: ref)
        let b = index.snapshot().observation(node: "node-b", dataset: ref)
        #expect(a?.bytes == TierBytes(memory: 1 << 20) && a?.sharedMemory == true && a?.source == .vineyard && a?.estimated == false)
        #expect(b?.bytes == TierBytes(memory: 4 << 20) && b?.sharedMemory == true)
        #expect(report.problems.count == 2, "the hanging and the HTTP-speaking endpoints are reported: \(report.problems)")
        #expect(report.problems.contains { $0.contains("\(hangPort)") && $0.contains("no answer within") }, "\(report.problems)")
        #expect(report.problems.contains { $0.contains("\(garbagePort)") && $0.contains("not vineyardd") }, "\(report.problems)")
        let used = try #require(report.memory["node-a"])
        #expect(used.used >= 9 << 20 && used.limit == 128 << 20, "node-a's vineyardd holds its 9 MiB within a 128 MiB limit: \(used)")

        let plan = PodPlan.of(
            pod: try podJSON(
                yaml: """
                    metadata: {name: reader, namespace: ml, annotations: {locus.dev/datasets: features}}
                    spec: {containers: [{name: app, image: python}]}
                    """), cache: cache)
        let scores = Extender.prioritize(plan, nodes: ["node-a", "node-b", "node-c"], locality: index.snapshot(), config: ExtenderConfig())
        #expect(scores.map(\.score) == [5, 10, 0], "node-b holds 4 of 5 MiB; node-a 1 MiB (3) + shared-memory bonus (2); node-c nothing")

        // node-b's vineyardd goes away: its last figure stays until the TTL, then reads as unknown.
        stop(instances[1].process)
        let again = await feeds.pollEngines()[ref]
        #expect(again?.problems.contains { $0.contains("\(instances[1].port)") } == true)
        #expect(index.snapshot().observation(node: "node-b", dataset: ref)?.bytes.memory == 4 << 20)
        #expect(index.snapshot(now: Date().addingTimeInterval(index.ttl + 1)).observation(node: "node-b", dataset: ref) == nil)
    }
}
