import AsyncHTTPClient
import Foundation
import JSON
import KubeClient
import Locality
import Mutators
import NIOCore
import NIOHTTP1
import SchedulerExtender
import TestSupport
import Testing

@testable import WebhookServer

/// The example state with its per-node cache entries, as `locus serve --example` has it.
func exampleLocality(ttl: TimeInterval = 120, now: Date = Date()) throws -> (ClusterCache, LocalityIndex) {
    let state = try ExampleState.clusterState()
    let cache = state.makeClusterCache()
    let index = LocalityIndex(ttl: ttl)
    LocalityFeeds(cache: cache, index: index, staticEntries: state.cacheEntries).refresh(now: now)
    return (cache, index)
}

func extenderArgs(pod: JSONValue, names: [String]? = nil, nodes: [JSONValue]? = nil) -> [UInt8] {
    var o: JSONObject = ["Pod": pod, "Nodes": .null, "NodeNames": .null]
    if let names { o["NodeNames"] = .array(names.map { .string($0) }) }
    if let nodes { o["Nodes"] = ["kind": "NodeList", "apiVersion": "v1", "metadata": [:], "items": .array(nodes)] }
    return JSONValue.object(o).encodedBytes()
}

@Suite("Scheduler extender: wire, filter, prioritize, locality")
struct ExtenderTests {
    let cache: ClusterCache
    let index: LocalityIndex

    init() throws { (cache, index) = try exampleLocality() }

    /// Node names of every length (shorter and longer than a word, prefixes of one another,
    /// non-ASCII) are found after nodes are added in two rounds by two sources, each with its
    /// own figure; names the index never saw, and near misses, find nothing.
    @Test func everyNodeIsFoundByNameAndNoOtherIs() {
        let index = LocalityIndex()
        let ref = DatasetRef(namespace: "ml", name: "d")
        let now = Date()
        let names = (0..<3000).map { i -> String in
            switch i % 4 {
            case 0: "n\(i)"
            case 1: "node-\(i)"
            case 2: "ip-10-0-\(i % 250)-\(i).eu-west-1.compute.internal"
            default: "nœud-\(i)-été"
            }
        }
        func picture(_ slice: ArraySlice<String>, _ source: LocalitySource, plus: Int64) -> LocalityIndex.Picture {
            var p: LocalityIndex.Picture = [:]
            for (k, name) in zip(slice.indices, slice) {
                p[name] = [ref: Observation(bytes: TierBytes(ssd: Int64(k) + plus), confirmedAt: now, source: source)]
            }
            return p
        }
        index.replace(source: .juicefs, with: picture(names[..<1700], .juicefs, plus: 0))
        index.replace(source: .alluxio, with: picture(names[1200...], .alluxio, plus: 0))
        let snapshot = index.snapshot(now: now)
        for (k, name) in names.enumerated() {
            #expect(snapshot.observation(node: name, dataset: ref)?.bytes.ssd == Int64(k), "\(name)")
        }
        for miss in [
            "", "n", "node-", "node-1x", "n30000", "ip-10-0-1-1.eu-west-1.compute.interna", "nœud-3-ete",
            String(repeating: "x", count: 300),
        ] {
            #expect(snapshot.observation(node: miss, dataset: ref) == nil, "\(miss)")
        }
    }

    func scores(_ pod: JSONValue, _ nodes: [String] = ["node-a", "node-b", "node-c"], config: ExtenderConfig = ExtenderConfig()) -> [String:
        Int]
    {
        let plan = PodPlan.of(pod: pod, cache: cache)
        let verdicts = Extender.prioritize(plan, nodes: nodes, locality: index.snapshot(), config: config)
        #expect(
            Extender.scores(plan, nodes: nodes, locality: index.snapshot(), config: config).scores == verdicts.map(\.score),
            "the request path's scores are locus score's")
        return Dictionary(uniqueKeysWithValues: verdicts.map { ($0.node, $0.score) })
    }

    @Test func bytesInFasterTiersScoreHigher() {
        // node-a: 40 GiB memory + 16 GiB SSD of imagenet; node-b: 40 GiB SSD.
        #expect(scores(makePod(claims: ["imagenet"])) == ["node-a": 10, "node-b": 4, "node-c": 0])
        var ssdOnly = ExtenderConfig()
        ssdOnly.memoryWeight = 0.5  // memory no better than SSD: 48 vs 40 GiB
        #expect(scores(makePod(claims: ["imagenet"]), config: ssdOnly) == ["node-a": 10, "node-b": 7, "node-c": 0])
    }

    @Test func sharedMemoryColocationAddsTheBonus() {
        // features is read by IPC: node-a 6 GiB and node-b 2 GiB in memory, both hold a shared-memory copy.
        let s = scores(makePod(annotations: ["locus.dev/datasets": "features"]))
        #expect(s == ["node-a": 10, "node-b": 5, "node-c": 0], "10·2/6 = 3, + 2 bonus")
    }

    @Test func nothingCachedMeansAllZeroAndPodsWithoutDatasetsToo() throws {
        let cache = try exampleCache()  // no per-node entries
        // No node runs a cache worker of the dataset: Fluid's status places nothing, and the topology fallback says nothing either.
        for n in cache.nodes.list() {
            var m = n
            m.metadata.labels?["fluid.io/s-ml-llama-weights"] = nil
            m.metadata.resourceVersion = "\(m.metadata.resourceVersion ?? "")-edited"
            cache.nodes.upsert(m)
        }
        let index = LocalityIndex()
        LocalityFeeds(cache: cache, index: index).refresh()
        let plan = PodPlan.of(pod: makePod(annotations: ["locus.dev/datasets": "ml/llama-weights"], claims: []), cache: cache)
        let verdicts = Extender.prioritize(plan, nodes: ["node-a", "node-c"], locality: index.snapshot(), config: ExtenderConfig())
        #expect(verdicts.map(\.score) == [0, 0])
        let unplaced = Extender.prioritize(
            plan, nodes: ["node-a", "node-b", "node-c"], locality: index.snapshot(), config: ExtenderConfig(), view: .cluster(cache))
        #expect(unplaced.map(\.score) == [0, 0, 0])
        let none = Extender.prioritize(
            PodPlan.of(pod: makePod(), cache: cache), nodes: ["node-a"], locality: index.snapshot(), config: ExtenderConfig())
        #expect(none.map(\.score) == [0])
    }

    /// Nothing of the dataset is cached on any node yet (a new dataset): nodes are scored by how
    /// close they are to its cache workers: the worker's node, then its zone, then its region.
    @Test func withNothingCachedTopologyDecides() throws {
        let cache = try exampleCache()
        for n in cache.nodes.list() {
            var m = n
            m.metadata.labels?["topology.kubernetes.io/region"] = "region-1"
            m.metadata.resourceVersion = "\(m.metadata.resourceVersion ?? "")-edited"
            cache.nodes.upsert(m)
        }
        let far = try ClusterStateFile(
            yaml: """
                nodes:
                  - metadata: {name: node-d, labels: {topology.kubernetes.io/zone: zone-9, topology.kubernetes.io/region: region-2}}
                """, source: "test"
        ).nodes!
        cache.nodes.upsert(far[0])
        let index = LocalityIndex()
        LocalityFeeds(cache: cache, index: index).refresh()  // Fluid's status: llama-weights 26 GiB on node-b…
        index.replace(
            source: .juicefs,
            with: [  // …but the engine itself says node-b holds nothing of it
                "node-b": [
                    DatasetRef(namespace: "ml", name: "llama-weights"): Observation(
                        bytes: TierBytes(), confirmedAt: Date(), source: .juicefs)
                ]
            ])
        let plan = PodPlan.of(pod: makePod(claims: ["llama-weights"]), cache: cache)
        let nodes = ["node-a", "node-b", "node-c", "node-d"]
        let verdicts = Extender.prioritize(plan, nodes: nodes, locality: index.snapshot(), config: ExtenderConfig(), view: .cluster(cache))
        // node-b runs the worker (4); node-a shares its zone-1 (2); node-c is zone-2 of the same region (1); node-d is elsewhere.
        #expect(verdicts.map(\.score) == [2, 4, 1, 0])
        #expect(
            Extender.scores(plan, nodes: nodes, locality: index.snapshot(), config: ExtenderConfig(), view: .cluster(cache)) == (
                [2, 4, 1, 0], .topology
            ))
        #expect(verdicts[0].topology == ["same zone zone-1 as a cache worker of ml/llama-weights"])
        #expect(verdicts[3].topology.isEmpty)
        // Once bytes of any of the pod's datasets are cached anywhere, bytes decide again.
        let two = PodPlan.of(pod: makePod(claims: ["llama-weights", "imagenet"]), cache: cache)
        let both = Extender.prioritize(two, nodes: nodes, locality: index.snapshot(), config: ExtenderConfig(), view: .cluster(cache))
        #expect(both.map(\.score) == [10, 10, 0, 0], "imagenet's Fluid estimate puts 48 GiB on each of node-a and node-b, so bytes decide")
        #expect(
            Extender.scores(two, nodes: nodes, locality: index.snapshot(), config: ExtenderConfig(), view: .cluster(cache)).basis
                == .cachedBytes)
        #expect(
            Extender.scores(plan, nodes: nodes, locality: index.snapshot(), config: ExtenderConfig()).basis == .nothing,
            "no node view, nothing cached")
        var config = ExtenderConfig()
        config.topologyNodeScore = 0
        config.topologyZoneScore = 0
        config.topologyRegionScore = 0
        #expect(
            Extender.prioritize(plan, nodes: nodes, locality: index.snapshot(), config: config, view: .cluster(cache)).map(\.score) == [
                0, 0, 0, 0,
            ])
    }

    @Test func hostPriorityListIsValidJSONWhateverTheNames() throws {
        let bytes = encodeHostPriorities([("node-a", 10), ("we\"ird\\name\n", 0), ("", 7)])
        let parsed = try JSONValue.parse(bytes: bytes)
        #expect(parsed == [["Host": "node-a", "Score": 10], ["Host": "we\"ird\\name\n", "Score": 0], ["Host": "", "Score": 7]])
        #expect(encodeHostPriorities([]) == Array("[]".utf8))
        // The sized fast path (plain names, one-digit scores) and the general writer agree on
        // every length, including after bytes already in the buffer.
        for count in [0, 1, 2, 7, 300] {
            let pairs = (0..<count).map { (host: "node-\($0)-" + String(repeating: "x", count: $0 % 17), score: $0 % 10) }
            var out = Array("prefix".utf8)
            writeHostPriorities(count: pairs.count, host: { pairs[$0].host }, score: { pairs[$0].score }, into: &out)
            #expect(out.prefix(6) == Array("prefix".utf8)[...])
            let list = try JSONValue.parse(bytes: Array(out.dropFirst(6)))
            #expect(list == .array(pairs.map { ["Host": .string($0.host), "Score": .integer(Int64($0.score))] }), "\(count) entries")
        }
    }

    @Test func staleFiguresDecayToUnknown() throws {
        // Fluid's status (imagenet: 48 GiB estimated on each of node-a and node-b), confirmed two
        // minutes ago, with a one-minute TTL.
        let cache = try exampleCache()
        let index = LocalityIndex(ttl: 60)
        LocalityFeeds(cache: cache, index: index).refresh(now: Date(timeIntervalSinceNow: -120))
        let plan = PodPlan.of(pod: makePod(claims: ["imagenet"]), cache: cache)
        let verdicts = Extender.prioritize(plan, nodes: ["node-a", "node-b"], locality: index.snapshot(), config: ExtenderConfig())
        #expect(verdicts.map(\.score) == [0, 0], "stale figures count for nothing")
        #expect(verdicts.allSatisfy { $0.bytes.isEmpty })
        // ...and never make a node fail.
        let f = Extender.filter(plan, nodes: ["node-a", "node-b", "node-c"]) { cache.nodes.get(namespace: nil, name: $0)?.metadata.labels }
        #expect(f.passed == ["node-a", "node-b", "node-c"])
        // A fresh refresh brings them back.
        LocalityFeeds(cache: cache, index: index).refresh()
        let fresh = Extender.prioritize(plan, nodes: ["node-a", "node-b"], locality: index.snapshot(), config: ExtenderConfig())
        #expect(fresh.map(\.score) == [10, 10])
        // A cluster-state file's entries are the cluster while Locus serves the file: they do not expire.
        let (_, withFile) = try exampleLocality(ttl: 60)
        let old = Extender.prioritize(
            plan, nodes: ["node-a", "node-b"], locality: withFile.snapshot(now: Date(timeIntervalSinceNow: 3600)), config: ExtenderConfig())
        #expect(old.map(\.score) == [10, 4])
    }

    @Test func exactEngineFiguresBeatFluidsEstimate() {
        let index = LocalityIndex()
        let ref = DatasetRef(namespace: "ml", name: "imagenet")
        let now = Date()
        index.replace(
            source: .fluidStatus,
            with: ["n": [ref: Observation(bytes: TierBytes(ssd: 100), confirmedAt: now, source: .fluidStatus, estimated: true)]])
        index.replace(
            source: .vineyard, with: ["n": [ref: Observation(bytes: TierBytes(memory: 7), confirmedAt: now - 5, source: .vineyard)]])
        #expect(index.snapshot().observation(node: "n", dataset: ref)?.source == .vineyard)
    }

    @Test func fluidStatusSpreadsTheTotalOverLabelledNodesAndTiers() throws {
        // imagenet: 96 GiB cached, labelled on node-a and node-b: 48 GiB each, 40 GiB in MEM (its quota) then 8 GiB SSD.
        let cache = try exampleCache()
        let picture = FluidStatusSource.picture(cache: cache, now: Date())
        let ref = DatasetRef(namespace: "ml", name: "imagenet")
        #expect(picture["node-a"]?[ref]?.bytes == TierBytes(memory: 40 << 30, ssd: 8 << 30))
        #expect(picture["node-b"]?[ref]?.estimated == true)
        #expect(picture["node-c"]?[ref] == nil)
        #expect(picture["node-a"]?[DatasetRef(namespace: "ml", name: "features")]?.sharedMemory == true)
    }

    // MARK: filter

    @Test func filterRemovesOnlyNodesThatCannotServeSayingWhy() throws {
        let cache = try exampleCache(
            extra: """
                runtimes:
                  - kind: JuiceFSRuntime
                    metadata: {name: llama-weights, namespace: ml}
                    spec: {fuse: {image: juicedata/juicefs-fuse, nodeSelector: {gpu: "true"}}}
                """)
        let labels: (String) -> [String: String]? = { name in
            switch name {
            case "gpu-1": ["gpu": "true"]
            case "held": ["gpu": "true", "fluid_exclusive": "other_weights", "fluid.io/s-ml-features": "true"]
            case "unknown": nil
            default: cache.nodes.get(namespace: nil, name: name)?.metadata.labels
            }
        }
        let nodes = ["node-a", "node-b", "node-c", "gpu-1", "held", "unknown"]
        // Serverful FUSE: the runtime's FUSE runs only on gpu=true nodes.
        let serverful = Extender.filter(PodPlan.of(pod: makePod(claims: ["llama-weights"]), cache: cache), nodes: nodes, labels: labels)
        #expect(serverful.passed == ["gpu-1", "unknown"], "unknown nodes pass: fail open")
        #expect(serverful.unresolvable["node-a"]?.contains("runs only on nodes with gpu=true; node node-a lacks it") == true)
        #expect(serverful.unresolvable["held"]?.contains("held exclusively by dataset other/weights") == true)
        // IPC: only nodes running the engine.
        let ipc = Extender.filter(
            PodPlan.of(pod: makePod(annotations: ["locus.dev/datasets": "features"]), cache: cache), nodes: nodes, labels: labels)
        #expect(Set(ipc.passed) == ["node-a", "node-b", "unknown"])
        #expect(ipc.unresolvable["node-c"]?.contains("runs no VineyardRuntime worker for dataset ml/features") == true)
        // Sidecar mode (the PVC became an emptyDir): the runtime's FUSE placement no longer matters.
        let sidecarPod = try #require(
            decide(makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["llama-weights"]), cache: cache).pod)
        let sidecar = Extender.filter(PodPlan.of(pod: sidecarPod, cache: cache), nodes: nodes, labels: labels)
        #expect(sidecar.passed.contains("node-a"))
        // No datasets: everything passes.
        #expect(Extender.filter(PodPlan.of(pod: makePod(), cache: cache), nodes: nodes, labels: labels).passed == nodes)
    }

    /// The answers written from a request's name bytes say what the general encoders say: the
    /// filter's answer when every node passes, and a HostPriorityList with scores 0…10.
    @Test func answersWrittenFromNameBytesMatchTheEncoders() throws {
        let names = ["ip-10-32-2-10.ec2.internal", "node-b", "ü-node"]
        let list = NodeNameList(names)
        #expect(Array(list) == names)
        let fast = try #require(FilterResult.allPassing(list))
        let body = Array(#"{"Pod":{"metadata":{"name":"p"}},"NodeNames":["ip-10-32-2-10.ec2.internal","node-b","ü-node"]}"#.utf8)
        let args = try ExtenderArgs.parse(body)
        #expect(args.nodes == list)
        #expect(try JSONValue.parse(bytes: fast) == JSONValue.parse(bytes: FilterResult(passed: names).encoded(for: args)))
        #expect(FilterResult.allPassing(NodeNameList(["a\"b"])) == nil, "a name needing escapes takes the general path")
        let scores = [10, 0, 7]
        let size = try #require(plainHostPrioritiesSize(names: list, score: { scores[$0] }))
        var out = [UInt8](repeating: 0, count: size)
        out.withUnsafeMutableBufferPointer { writePlainHostPriorities(names: list, score: { scores[$0] }, size: size, at: $0.baseAddress!) }
        #expect(try JSONValue.parse(bytes: out) == JSONValue.parse(bytes: encodeHostPriorities(Array(zip(names, scores)))))
        #expect(String(decoding: out, as: UTF8.self).hasPrefix(#"[{"Host":"ip-10-32-2-10.ec2.internal","Score":10}"#))
    }

    /// The filter through the node cache's indexes gives the verdicts of the filter that reads
    /// every node's labels: exclusive holders, IPC datasets without a worker, unknown nodes.
    @Test func theIndexedFilterAgreesWithTheOneReadingEveryNode() throws {
        let cache = try exampleCache()
        cache.nodes.upsert(Node(metadata: ObjectMeta(name: "held", labels: ["fluid_exclusive": "other_weights"])))
        cache.nodes.upsert(
            Node(metadata: ObjectMeta(name: "mine", labels: ["fluid_exclusive": "ml_features", "fluid.io/s-ml-features": "true"])))
        let nodes = cache.nodes.keys.sorted() + ["unknown"]
        let labels = NodeView.labels(cache)
        let index = try #require(NodeView.index(cache))
        var failing = 0
        for pod in [
            makePod(), makePod(claims: ["llama-weights"]), makePod(annotations: ["locus.dev/datasets": "features"]),
            makePod(annotations: ["locus.dev/datasets": "features"], claims: ["imagenet"]),
        ] {
            let plan = PodPlan.of(pod: pod, cache: cache)
            let read = Extender.filter(plan, nodes: nodes, labels: labels)
            let indexed = Extender.filter(
                plan, nodes: nodes,
                labels: { _ in
                    Issue.record("a label was read")
                    return nil
                }, index: index)
            #expect(indexed.passed == read.passed && indexed.unresolvable == read.unresolvable, "\(plan.datasets.map { $0.ref })")
            failing += read.unresolvable.count
        }
        #expect(failing >= 4, "the cases fail nodes both ways")
        #expect(NodeView.index(cache, given: ["x": [:]]) == nil, "a NodeList from kube-scheduler is read as sent")
    }

    // MARK: wire

    @Test(arguments: [
        ("nope", "body is not ExtenderArgs"),
        ("[]", "ExtenderArgs must be a JSON object"),
        (#"{"NodeNames":["a"]}"#, "ExtenderArgs.Pod is missing"),
        (#"{"Pod":{},"Nodes":null,"NodeNames":null}"#, "ExtenderArgs has neither Nodes nor NodeNames"),
        (#"{"Pod":{},"NodeNames":"a"}"#, "ExtenderArgs.NodeNames must be a list of names"),
        (#"{"Pod":{},"NodeNames":["a",""]}"#, "ExtenderArgs.NodeNames[1] is not a node name"),
        (#"{"Pod":{},"Nodes":{"items":[{"metadata":{}}]}}"#, "ExtenderArgs.Nodes.items[0] has no metadata.name"),
        (#"{"Pod":{},"Nodes":7}"#, "ExtenderArgs.Nodes must be a NodeList"),
    ])
    func malformedArgsSayWhy(body: String, reason: String) {
        #expect { try ExtenderArgs.parse(Array(body.utf8)) } throws: { ($0 as? ExtenderRequestError)?.description.contains(reason) == true }
    }

    @Test func argsAreReadAsGoReadsThem() throws {
        let lower = try ExtenderArgs.parse(Array(#"{"pod":{"metadata":{"name":"p"}},"nodenames":["b","a","b"]}"#.utf8))
        #expect(lower.nodeNames == ["b", "a", "b"], "case-insensitive fields; names as sent")
        let empty = try ExtenderArgs.parse(Array(#"{"Pod":{},"NodeNames":[]}"#.utf8))
        #expect(empty.nodeNames.isEmpty)
    }

    @Test func filterResultEchoesTheModeItWasAskedIn() throws {
        let names = try ExtenderArgs.parse(extenderArgs(pod: makePod(), names: ["a", "b"]))
        let r = FilterResult(passed: ["a"], unresolvable: ["b": "why"])
        let v = try JSONValue.parse(bytes: r.encoded(for: names))
        #expect(v == ["NodeNames": ["a"], "Nodes": nil, "FailedNodes": [:], "FailedAndUnresolvableNodes": ["b": "why"], "Error": ""])
        let node: JSONValue = ["metadata": ["name": "a", "labels": ["x": "y"]], "status": ["allocatable": ["cpu": "4"]]]
        let full = try ExtenderArgs.parse(extenderArgs(pod: makePod(), nodes: [node, ["metadata": ["name": "b"]]]))
        let fv = try JSONValue.parse(bytes: r.encoded(for: full))
        #expect(fv["Nodes"]?["items"] == [node], "the full node object comes back untouched")
        #expect(fv["NodeNames"] == nil || fv["NodeNames"] == .null)
    }

    /// Full NodeList mode reads only each node's metadata, still checks every byte is JSON, and
    /// answers with the passing nodes' own bytes.
    @Test func fullNodesAreEchoedByteForByteAndStillChecked() throws {
        let item = #"{"metadata":{"name":"a","labels":{"z":"1"}} , "status": {"images": [{"names":["x\"y"]}], "n": 1.5e3}}"#
        let args = try ExtenderArgs.parse(
            Array(#"{"Pod":{"metadata":{}},"Nodes":{"kind":"NodeList","items":[\#(item),{"metadata":{"name":"b"}}]}}"#.utf8))
        #expect(args.nodeNames == ["a", "b"] && args.nodeLabels?["a"] == ["z": "1"])
        let out = String(decoding: FilterResult(passed: ["a"], unresolvable: ["b": "no"]).encoded(for: args), as: UTF8.self)
        #expect(out.contains(#""items":[\#(item)]"#), "\(out)")
        #expect(try JSONValue.parse(Data(out.utf8))["Nodes"]?["items"]?.arrayValue?.count == 1)
        for bad in [
            #"{"metadata":{"name":"a"},"status":{"x":[1,]}}"#, #"{"metadata":{"name":"a"},"s":"\q"}"#,
            #"{"metadata":{"name":"a"},"s":tru}"#,
            #"{"metadata":{"name":"a"},"s":"\ud800x"}"#, #"{"metadata":{"name":"a"},"s":"a\u12"}"#,
        ] {
            #expect(throws: ExtenderRequestError.self, "\(bad)") {
                try ExtenderArgs.parse(Array(#"{"Pod":{},"Nodes":{"items":[\#(bad)]}}"#.utf8))
            }
        }
    }

    /// Passing nodes that follow one another in the request are answered as one slice of it;
    /// a failing node between them splits the slice, and the answer is the same JSON either way.
    @Test func passingRunsAreAnsweredAsSlicesOfTheRequest() throws {
        let items = (0..<8).map { #"{"metadata":{"name":"n\#($0)"},"status":{"s":"\#(String(repeating: "x", count: $0))"}}"# }
        let body = Array(
            #"{"Pod":{"metadata":{}},"Nodes":{"kind":"NodeList","items":[\#(items[0]), \#(items[1]) ,\#n\#(items[2]),\#(items[3]),\#(items[4]),\#(items[5]),\#(items[6]),\#(items[7])]}}"#
                .utf8)
        let args = try ExtenderArgs.parse(body)
        for failing in [Set<Int>(), [3], [0, 7], [1, 2, 5], Set(0..<8)] {
            let passed = (0..<8).filter { !failing.contains($0) }.map { "n\($0)" }
            let result = FilterResult(passed: passed, unresolvable: Dictionary(uniqueKeysWithValues: failing.map { ("n\($0)", "no") }))
            let pieces = body.withUnsafeBytes { result.pieces(for: args, raw: $0) }
            // Runs of passing nodes in a row: each one slice of the request.
            var runs = 0
            for i in 0..<8 where !failing.contains(i) && (i == 0 || failing.contains(i - 1)) { runs += 1 }
            #expect(pieces.filter { if case .request = $0 { true } else { false } }.count == runs, "failing \(failing)")
            let answer = try JSONValue.parse(bytes: result.encoded(for: args))
            #expect(answer["Nodes"]?["items"] == .array(passed.map { n in try! JSONValue.parse(Data(items[Int(n.dropFirst())!].utf8)) }))
        }
    }

    // MARK: over TLS

    @Test func filterAndPrioritizeOverTLS() async throws {
        let state = try ExampleState.clusterState()
        let locus = try await RunningLocus.start(backend: .fixed(state.makeClusterCache()), staticCache: state.cacheEntries)
        let client = try makeClient(caPEM: locus.certs.caCertificatePEM)
        func post(_ path: String, _ body: [UInt8]) async throws -> (HTTPResponseStatus, JSONValue?) {
            var req = HTTPClientRequest(url: "\(locus.url)\(path)")
            req.method = .POST
            req.headers.add(name: "Content-Type", value: "application/json")
            req.body = .bytes(ByteBuffer(bytes: body))
            let r = try await client.execute(req, timeout: .seconds(10))
            let b = try await r.body.collect(upTo: 8 << 20)
            return (r.status, try? JSONValue.parse(bytes: Array(buffer: b)))
        }
        let pod = makePod(annotations: ["locus.dev/datasets": "features"])
        let (fs, f) = try await post("/filter", extenderArgs(pod: pod, names: ["node-a", "node-b", "node-c", "node-z"]))
        #expect(fs == .ok)
        #expect(f?["NodeNames"] == ["node-a", "node-b", "node-z"])
        #expect(f?["FailedAndUnresolvableNodes"]?["node-c"]?.stringValue?.contains("VineyardRuntime") == true)
        #expect(f?["Error"] == "")
        let (ps, p) = try await post("/prioritize", extenderArgs(pod: pod, names: ["node-a", "node-b", "node-c"]))
        #expect(ps == .ok)
        #expect(p == [["Host": "node-a", "Score": 10], ["Host": "node-b", "Score": 5], ["Host": "node-c", "Score": 0]])
        // Full NodeList mode answers with Nodes.
        let nodes: [JSONValue] = ["node-a", "node-c"].map {
            ["metadata": ["name": .string($0), "labels": ["fluid.io/s-ml-features": $0 == "node-a" ? "true" : "false"]]]
        }
        let (_, full) = try await post("/filter", extenderArgs(pod: pod, nodes: nodes))
        #expect(full?["Nodes"]?["items"]?.arrayValue?.count == 1)
        #expect(full?["NodeNames"] == JSONValue.null)
        // Bad input: 400 with the reason.
        let (bs, bad) = try await post("/filter", Array(#"{"NodeNames":["a"]}"#.utf8))
        #expect(bs == .badRequest && bad?["Error"]?.stringValue?.contains("Pod is missing") == true)
        try await client.shutdown()
        await locus.stop()
    }
}
