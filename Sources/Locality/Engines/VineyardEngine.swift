import Foundation

/// Vineyard, the shared-memory engine: clients connect to vineyardd's IPC socket on their node.
/// Fluid's layout: socket directory `/runtime-mnt/vineyard/<ns>/<name>` (the runtime may name
/// another with `locus.dev/socket-dir`, e.g. the operator's `/var/run/vineyard-kubernetes/<ns>/<name>`),
/// socket `vineyard.sock`, ConfigMap `<name>-rpc-conf` with `VINEYARD_RPC_ENDPOINT`.
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

    public func access(dataset: Dataset, runtime: FluidRuntime, volume: PersistentVolume?) throws -> DataAccess {
        let ns = runtime.metadata.namespace ?? ""
        let name = runtime.metadata.name ?? ""
        let dir = runtime.metadata.annotations?[Keys.socketDirectory] ?? "/runtime-mnt/vineyard/\(ns)/\(name)"
        guard dir.hasPrefix("/"), !dir.split(separator: "/").contains("..") else {
            throw EngineError("VineyardRuntime \(ns)/\(name): socket directory \(dir) must be an absolute path without '..'")
        }
        return .sharedMemory(
            SharedMemoryEndpoint(
                socketDirectory: dir, socketFile: "vineyard.sock", socketEnvironmentVariable: "VINEYARD_IPC_SOCKET",
                configMap: "\(name)-rpc-conf"))
    }

    /// The RPC endpoints to ask, from the runtime's annotation or its ConfigMap.
    public static func endpoints(runtime: FluidRuntime, cache: ClusterCache) -> [String] {
        let ns = runtime.metadata.namespace ?? ""
        let text = runtime.metadata.annotations?[endpointsAnnotation]
            ?? cache.configMaps.get(namespace: ns, name: "\(runtime.metadata.name ?? "")-rpc-conf")?.data?["VINEYARD_RPC_ENDPOINT"]
            ?? ""
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public func observe(dataset: Dataset, runtime: FluidRuntime, cache: ClusterCache, probe: EngineProbe) async -> EngineReport? {
        let endpoints = Self.endpoints(runtime: runtime, cache: cache)
        guard !endpoints.isEmpty else { return nil }
        let pattern = dataset.metadata.annotations?[Self.namesAnnotation] ?? runtime.metadata.annotations?[Self.namesAnnotation] ?? "*"
        var report = EngineReport(source: .vineyard)
        let timeout = probe.timeout
        // Every endpoint's own shared-memory figures, at once.
        let statuses = await withTaskGroup(of: (String, Result<VineyardRPC.Status, Error>).self) { group in
            for endpoint in endpoints {
                group.addTask {
                    do { return (endpoint, .success(try await VineyardRPC.withSession(endpoint: endpoint, timeout: timeout) { try await $0.status() })) }
                    catch { return (endpoint, .failure(error)) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for (endpoint, result) in statuses.sorted(by: { $0.0 < $1.0 }) {
            if case .failure(let e) = result { report.problems.append("vineyardd \(endpoint): \(e)") }
        }
        // Placement from the first endpoint that answers (the metadata is shared by all instances).
        var placement: (instances: [VineyardRPC.Instance], bytes: [UInt64: Int64])?
        for endpoint in endpoints where placement == nil {
            if case .failure = statuses.first(where: { $0.0 == endpoint })?.1 { continue }
            do {
                placement = try await VineyardRPC.withSession(endpoint: endpoint, timeout: timeout) { s in
                    let instances = try await s.clusterInstances()
                    let ids = try await s.names(matching: pattern, limit: Self.maxObjects).values.sorted()
                    var trees: [JSONValue] = []
                    for start in stride(from: 0, to: ids.count, by: 1000) {
                        trees += try await s.metadata(Array(ids[start..<min(ids.count, start + 1000)])).values
                    }
                    return (instances, VineyardRPC.bytesPerInstance(trees))
                }
            } catch {
                report.problems.append("vineyardd \(endpoint): \(error)")
            }
        }
        guard let placement else { return report }
        let now = probe.now()
        let nodeOf = Dictionary(placement.instances.map { ($0.id, $0.nodename) }, uniquingKeysWith: { a, _ in a })
        for instance in placement.instances {
            let bytes = placement.bytes[instance.id] ?? 0
            var o = report.nodes[instance.nodename] ?? Observation(bytes: TierBytes(), confirmedAt: now, source: .vineyard)
            o.bytes.memory += bytes
            o.sharedMemory = o.bytes.memory > 0
            report.nodes[instance.nodename] = o
        }
        for (_, result) in statuses {
            guard case .success(let status) = result, let node = nodeOf[status.instanceID] else { continue }
            let before = report.memory[node] ?? (0, 0)
            report.memory[node] = (before.used + status.memoryUsage, before.limit + status.memoryLimit)
        }
        for (instance, bytes) in placement.bytes where nodeOf[instance] == nil && bytes > 0 {
            report.problems.append("\(bytes) bytes of \(dataset.metadata.namespace ?? "")/\(dataset.metadata.name ?? "") are on vineyard instance \(instance), which the cluster metadata does not list")
        }
        return report
    }
}
