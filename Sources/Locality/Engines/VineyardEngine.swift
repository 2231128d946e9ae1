import Foundation
import JSON
public import KubeClient

/// Vineyard, the shared-memory engine: clients connect to vineyardd's IPC socket on their node.
/// Fluid's layout: socket directory `/runtime-mnt/vineyard/<ns>/<name>` (the runtime may name
/// another with `locus.dev/socket-dir`, e.g. the operator's `/var/run/vineyard-kubernetes/<ns>/<name>`),
/// socket `vineyard-worker.sock` (Fluid since 2024) or `vineyard.sock` (earlier Fluid, the
/// operator): the one the runtime's worker pods pass as `--socket`, else `locus.dev/socket-file`,
/// else `vineyard.sock`; ConfigMap `<name>-rpc-conf` with `VINEYARD_RPC_ENDPOINT`.
///
/// Where the bytes are comes from vineyardd itself, over its RPC port: the cluster metadata maps
/// each instance to its node (`nodename`, vineyardd's `MY_NODE_NAME`), the dataset's named
/// objects (glob `locus.dev/vineyard-names` on the dataset or runtime, default `*`: a Fluid
/// VineyardRuntime serves one dataset) are looked up by name, and each object's metadata says
/// which instance holds how many bytes. Every instance reached also reports its shared-memory use.
/// The endpoints: the runtime's `locus.dev/rpc-endpoints` (`host:port,…`), else the
/// `VINEYARD_RPC_ENDPOINT` of its `<name>-rpc-conf` ConfigMap.
public struct VineyardEngine: EnginePlugin {
    public static let endpointsAnnotation = "locus.dev/rpc-endpoints"
    public static let namesAnnotation = "locus.dev/vineyard-names"
    /// Named objects read per dataset at most.
    public static let maxObjects = 100_000

    public var kind: FluidRuntimeKind { .vineyard }
    public init() {}

    public func access(dataset: Dataset, runtime: FluidRuntime, volume: PersistentVolume?, catalog: any DatasetCatalog) throws -> DataAccess
    {
        let ns = runtime.metadata.namespace ?? ""
        let name = runtime.metadata.name ?? ""
        let dir = runtime.metadata.annotations?[Keys.socketDirectory] ?? "/runtime-mnt/vineyard/\(ns)/\(name)"
        guard dir.hasPrefix("/"), !dir.split(separator: "/").contains("..") else {
            throw EngineError("VineyardRuntime \(ns)/\(name): socket directory \(dir) must be an absolute path without '..'")
        }
        let workers = catalog.workerPods(namespace: ns, runtime: name, role: "vineyard-worker")
        let file = runtime.metadata.annotations?[Keys.socketFile] ?? Self.socketFile(of: workers) ?? "vineyard.sock"
        guard !file.isEmpty, !file.contains("/"), file != "..", file != "." else {
            throw EngineError("VineyardRuntime \(ns)/\(name): socket file \(file) must be a file name, not a path")
        }
        return .sharedMemory(
            SharedMemoryEndpoint(
                socketDirectory: dir, socketFile: file, socketEnvironmentVariable: "VINEYARD_IPC_SOCKET",
                configMap: "\(name)-rpc-conf"))
    }

    /// The socket file Fluid's Vineyard workers listen on: the last part of the `--socket`
    /// (or `--socket=`) argument of their `vineyard-worker` container (Fluid's chart:
    /// `/var/run/vineyard/vineyard-worker.sock`, the runtime's socket directory mounted at
    /// `/var/run/vineyard`). nil when no worker says.
    static func socketFile(of workers: [Pod]) -> String? {
        for pod in workers {
            for container in pod.spec?.containers ?? [] {
                let words = (container.command ?? []) + (container.args ?? [])
                for (i, word) in words.enumerated() {
                    let path: String? =
                        if word == "--socket" || word == "-socket" {
                            i + 1 < words.count ? words[i + 1] : nil
                        } else if word.hasPrefix("--socket=") {
                            String(word.dropFirst("--socket=".count))
                        } else { nil }
                    if let path, let file = path.split(separator: "/").last, file.hasSuffix(".sock") { return String(file) }
                }
            }
        }
        return nil
    }

    /// The RPC endpoints to ask, from the runtime's annotation or its ConfigMap (read by name).
    public static func endpoints(runtime: FluidRuntime, cache: ClusterCache) async throws -> [String] {
        let text: String
        if let annotated = runtime.metadata.annotations?[endpointsAnnotation] {
            text = annotated
        } else {
            let data = try await cache.configMapData(
                namespace: runtime.metadata.namespace ?? "", name: "\(runtime.metadata.name ?? "")-rpc-conf")
            text = data?["VINEYARD_RPC_ENDPOINT"] ?? ""
        }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public func observe(dataset: Dataset, runtime: FluidRuntime, cache: ClusterCache, probe: EngineProbe) async -> EngineReport? {
        let endpoints: [String]
        do {
            endpoints = try await Self.endpoints(runtime: runtime, cache: cache)
        } catch {
            let name = "\(runtime.metadata.namespace ?? "")/\(runtime.metadata.name ?? "")-rpc-conf"
            return EngineReport(source: .vineyard, problems: ["ConfigMap \(name) could not be read: \(error)"])
        }
        guard !endpoints.isEmpty else { return nil }
        let pattern = dataset.metadata.annotations?[Self.namesAnnotation] ?? runtime.metadata.annotations?[Self.namesAnnotation] ?? "*"
        var report = EngineReport(source: .vineyard)
        let answers = await Self.ask(endpoints, pattern: pattern, timeout: probe.timeout)
        var placement: Placement?
        for (endpoint, answer) in zip(endpoints, answers).sorted(by: { $0.0 < $1.0 }) {
            switch answer {
            case .failure(let e)?: report.problems.append("vineyardd \(endpoint): \(e)")
            case .success(let a)?:
                switch a.placement {
                case .success(let p)?: placement = p
                case .failure(let e)?: report.problems.append("vineyardd \(endpoint): \(e)")
                case nil: break
                }
            case nil: break
            }
        }
        // The first endpoint could not say: ask the others that answered, in order, until one does.
        for (i, endpoint) in endpoints.enumerated().dropFirst() where placement == nil {
            guard case .success? = answers[i] else { continue }
            do {
                placement = try await VineyardRPC.withSession(endpoint: endpoint, timeout: probe.timeout) {
                    try await Self.placement(&$0, pattern: pattern)
                }
            } catch {
                report.problems.append("vineyardd \(endpoint): \(error)")
            }
        }
        guard let placement else { return report }
        Self.record(placement, answers: answers, of: dataset, at: probe.now(), into: &report)
        return report
    }

    /// One session per endpoint, all at once: each reports its own shared memory, and the first
    /// also where the dataset's objects are (the metadata is shared by all instances). In
    /// `endpoints` order.
    static func ask(_ endpoints: [String], pattern: String, timeout: Duration) async -> [Result<EndpointAnswer, any Error>?] {
        await withTaskGroup(of: (Int, Result<EndpointAnswer, any Error>).self) { group in
            for (i, endpoint) in endpoints.enumerated() {
                group.addTask {
                    do {
                        return (
                            i,
                            .success(
                                try await VineyardRPC.withSession(endpoint: endpoint, timeout: timeout) { s in
                                    let status = try await s.status()
                                    guard i == 0 else { return EndpointAnswer(status: status, placement: nil) }
                                    do {
                                        return EndpointAnswer(
                                            status: status, placement: .success(try await Self.placement(&s, pattern: pattern)))
                                    } catch { return EndpointAnswer(status: status, placement: .failure(VineyardRPC.Failure("\(error)"))) }
                                })
                        )
                    } catch {
                        return (i, .failure(error))
                    }
                }
            }
            return await group.reduce(into: [Result<EndpointAnswer, any Error>?](repeating: nil, count: endpoints.count)) {
                $0[$1.0] = $1.1
            }
        }
    }

    /// Each node's bytes of the dataset and its instances' shared memory, from `placement` and the
    /// endpoints' status; bytes on an instance the metadata does not list are a problem.
    static func record(
        _ placement: Placement, answers: [Result<EndpointAnswer, any Error>?], of dataset: Dataset, at now: Date,
        into report: inout EngineReport
    ) {
        let nodeOf = Dictionary(placement.instances.map { ($0.id, $0.nodename) }, uniquingKeysWith: { a, _ in a })
        for instance in placement.instances {
            let bytes = placement.bytes[instance.id] ?? 0
            var o = report.nodes[instance.nodename] ?? Observation(bytes: TierBytes(), confirmedAt: now, source: .vineyard)
            o.bytes.memory += bytes
            o.sharedMemory = o.bytes.memory > 0
            report.nodes[instance.nodename] = o
        }
        for case .success(let answer)? in answers {
            guard let node = nodeOf[answer.status.instanceID] else { continue }
            let before = report.memory[node] ?? (0, 0)
            report.memory[node] = (before.used + answer.status.memoryUsage, before.limit + answer.status.memoryLimit)
        }
        for (instance, bytes) in placement.bytes where nodeOf[instance] == nil && bytes > 0 {
            report.problems.append(
                "\(bytes) bytes of \(dataset.metadata.namespace ?? "")/\(dataset.metadata.name ?? "") are on vineyard instance "
                    + "\(instance), which the cluster metadata does not list"
            )
        }
    }

    /// Which instance holds how many bytes of the dataset's named objects.
    struct Placement: Sendable {
        var instances: [VineyardRPC.Instance]
        var bytes: [UInt64: Int64]
    }

    /// What one endpoint said: its own status, and (the first endpoint only) the placement.
    struct EndpointAnswer: Sendable {
        var status: VineyardRPC.Status
        var placement: Result<Placement, VineyardRPC.Failure>?
    }

    static func placement(_ s: inout VineyardRPC.Session, pattern: String) async throws -> Placement {
        let instances = try await s.clusterInstances()
        let ids = try await s.names(matching: pattern, limit: maxObjects).values.sorted()
        var trees: [JSONValue] = []
        for start in stride(from: 0, to: ids.count, by: 1000) {
            trees += try await s.metadata(Array(ids[start..<min(ids.count, start + 1000)])).values
        }
        return Placement(instances: instances, bytes: VineyardRPC.bytesPerInstance(trees))
    }
}
