import Foundation
import JSON
import KubeClient
import KubeTestServer
import Locality
import Logging
import NIOCore
import TestSupport
import Testing

/// What Locus holds of a cluster: the metadata of its ConfigMaps, nodes and namespaces (asked
/// for as `PartialObjectMetadata`, as kube-apiserver serves any resource), and the data of the
/// ConfigMaps a decision names, read by name.
@Suite("Informers hold what decisions read")
struct MetadataOnlyCacheTests {
    static let dashboard = String(repeating: "{\"panel\": 1}", count: 20_000)

    @Test func configMapDataIsReadByNameOnlyForTheConfigMapsADecisionNames() async throws {
        let api = try await FakeAPIServer.start()
        try seedExample(api)
        let configMaps = Resource.configMaps.path()
        api.apply(
            configMaps, kind: "ConfigMap",
            [
                "metadata": [
                    "name": "grafana-dashboard", "namespace": "monitoring",
                    "annotations": ["kubectl.kubernetes.io/last-applied-configuration": .string(Self.dashboard)],
                ],
                "data": ["dashboard.json": .string(Self.dashboard)],
            ])
        api.apply(
            Resource.nodes.path(), kind: "Node",
            [
                "metadata": ["name": "node-big", "labels": ["zone": "a"], "annotations": ["csi.volume.kubernetes.io/nodeid": "{}"]],
                "status": ["images": [["names": ["registry/image@sha256:0123"], "sizeBytes": 1_000_000]]],
            ])
        let kube = try KubeAPIClient(config: api.kubeConfig(token: "t"), requestTimeout: .seconds(2))
        let live = LiveCluster(client: kube, cache: ClusterCache(), logger: .init(label: "test"))
        let run = Task { await live.run() }
        defer { run.cancel() }
        #expect(await eventually(timeout: .seconds(10)) { live.hasSynced })
        let cache = live.cache

        // Metadata alone is asked for and kept.
        let lists = api.requests.filter { $0.query["watch"] == nil && $0.query["limit"] != nil }
        for path in [configMaps, Resource.nodes.path(), Resource.namespaces.path()] {
            #expect(
                lists.contains { $0.path == path && $0.accept?.contains("as=PartialObjectMetadataList;g=meta.k8s.io;v=v1") == true },
                "\(path) listed as metadata")
        }
        #expect(cache.configMaps.count >= 5)
        #expect(cache.configMaps.list().allSatisfy { $0.data == nil && $0.metadata.annotations == nil })
        let node = try #require(cache.nodes.get(namespace: nil, name: "node-big"))
        #expect(node.metadata.labels == ["zone": "a"] && node.metadata.annotations == nil && node.status == nil)
        // The metadata still carries the annotations (kubectl's copy of the dashboard): as the real
        // API server sends them. The data itself never crosses the wire.
        #expect((api.servedBytes[configMaps] ?? 0) < 2 * Self.dashboard.utf8.count, "the dashboard's data never crossed the wire")

        // The Vineyard runtime's RPC ConfigMap is read by name once, and again only when it changes.
        let features = try #require(cache.runtimes.get(namespace: "ml", name: "features"))
        func gets() -> Int { api.requests.filter { $0.path == "\(Resource.configMaps.path(namespace: "ml"))/features-rpc-conf" }.count }
        #expect(try await VineyardEngine.endpoints(runtime: features, cache: cache) == ["features-worker-0.features-worker.ml:9600"])
        #expect(try await VineyardEngine.endpoints(runtime: features, cache: cache).count == 1)
        #expect(gets() == 1, "kept while unchanged")
        api.apply(
            configMaps, kind: "ConfigMap",
            [
                "metadata": ["name": "features-rpc-conf", "namespace": "ml"],
                "data": ["VINEYARD_RPC_ENDPOINT": "10.0.0.7:9600,10.0.0.8:9600"],
            ])
        #expect(
            await eventually(timeout: .seconds(5)) {
                (try? await VineyardEngine.endpoints(runtime: features, cache: cache)) == ["10.0.0.7:9600", "10.0.0.8:9600"]
            })
        #expect(gets() == 2, "read again once it changed")

        // A ConfigMap that appears after start is seen; one that is deleted is gone.
        api.apply(
            configMaps, kind: "ConfigMap", ["metadata": ["name": "late-env", "namespace": "ml"], "data": ["LATE": "yes"]])
        #expect(
            await eventually(timeout: .seconds(5)) {
                (try? await cache.configMapData(namespace: "ml", name: "late-env")) == ["LATE": "yes"]
            })
        _ = api.delete(configMaps, kind: "ConfigMap", namespace: "ml", name: "late-env")
        #expect(
            await eventually(timeout: .seconds(5)) { (try? await cache.configMapData(namespace: "ml", name: "late-env")) == .some(nil) })
        #expect(!api.requests.contains { $0.path.hasSuffix("/grafana-dashboard") }, "nothing reads the dashboard")
        run.cancel()
        await kube.shutdown()
        await api.stop()
    }

    /// Fluid's Vineyard workers pass `--socket /var/run/vineyard/vineyard-worker.sock` (current
    /// Fluid) or `.../vineyard.sock` (earlier): the socket file clients are pointed at is theirs.
    @Test func theVineyardSocketFileIsTheOneItsWorkersListenOn() throws {
        func worker(_ words: [String], args: [String]? = nil) throws -> Pod {
            var container: JSONObject = ["name": "vineyard-worker", "command": .array(words.map { .string($0) })]
            if let args { container["args"] = .array(args.map { .string($0) }) }
            let json: JSONValue = [
                "metadata": [
                    "name": "features-worker-0", "namespace": "ml", "labels": ["role": "vineyard-worker", "release": "features"],
                ],
                "spec": ["containers": [.object(container)]],
            ]
            return try JSONDecoder().decode(Pod.self, from: try json.encoded())
        }
        let cache = try exampleCache()
        let features = try #require(cache.runtimes.get(namespace: "ml", name: "features"))
        let dataset = try #require(cache.datasets.get(namespace: "ml", name: "features"))
        func socketFile() throws -> String? {
            guard
                case .sharedMemory(let endpoint) = try VineyardEngine().access(
                    dataset: dataset, runtime: features, volume: nil, catalog: cache)
            else { return nil }
            return endpoint.socketFile
        }
        #expect(try socketFile() == "vineyard.sock", "no worker says: the earlier name")
        cache.workerPods.upsert(try worker(["/usr/bin/vineyardd", "--socket", "/var/run/vineyard/vineyard-worker.sock", "--size", "8Gi"]))
        #expect(try socketFile() == "vineyard-worker.sock")
        cache.workerPods.upsert(try worker(["vineyardd"], args: ["--socket=/var/run/vineyard/vineyard.sock"]))
        #expect(try socketFile() == "vineyard.sock")
        var annotated = features
        annotated.metadata.annotations = [Keys.socketFile: "../etc/passwd"]
        #expect(throws: (any Error).self) {
            try VineyardEngine().access(dataset: dataset, runtime: annotated, volume: nil, catalog: cache)
        }
    }
}
