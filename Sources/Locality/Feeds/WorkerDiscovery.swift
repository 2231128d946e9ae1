import Foundation
public import KubeClient

/// A cache worker's metrics endpoint on a node.
public struct WorkerEndpoint: Sendable, Hashable {
    public var node: String
    public var url: String
    /// Where the endpoint was found, in words for problems and `locus score` (`pod ml/x-worker-0`).
    public var origin: String
}

/// Where a runtime's cache workers answer: the worker pods Fluid runs for it (their node, their
/// IP, the port their container declares under `portName`), or, when the runtime carries the
/// annotation `locus.dev/metrics-endpoints` (`node-a=http://10.0.0.5:9567/metrics,…`), exactly
/// those endpoints instead.
public struct WorkerDiscovery: Sendable {
    public static let endpointsAnnotation = "locus.dev/metrics-endpoints"

    /// The worker pods' `role` label (Fluid's chart: `<chart>-worker`).
    public var role: String
    /// The name of the container port serving metrics.
    public var portName: String
    /// The metrics path on that port.
    public var path: String

    public init(role: String, portName: String, path: String) {
        self.role = role
        self.portName = portName
        self.path = path
    }

    /// The endpoints to ask, sorted by node, and the nodes the runtime has workers on (a node
    /// without a worker holds none of its cache, whatever was said about it before).
    public func endpoints(of runtime: FluidRuntime, cache: ClusterCache) -> (
        endpoints: [WorkerEndpoint], workerNodes: Set<String>, problems: [String]
    ) {
        if let annotated = Self.annotated(runtime) {
            return (annotated, Set(annotated.map(\.node)), [])
        }
        var out: [WorkerEndpoint] = []
        var nodes = Set<String>()
        var problems: [String] = []
        let pods = cache.workerPods(namespace: runtime.metadata.namespace ?? "", runtime: runtime.metadata.name ?? "", role: role)
        for pod in pods.sorted(by: { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }) {
            let name = "\(pod.metadata.namespace ?? "")/\(pod.metadata.name ?? "")"
            guard pod.metadata.deletionTimestamp == nil, let node = pod.spec?.nodeName, !node.isEmpty else { continue }
            nodes.insert(node)
            guard pod.status?.phase == "Running", let ip = pod.status?.podIP, !ip.isEmpty else { continue }
            let ports = (pod.spec?.containers ?? []).flatMap { $0.ports ?? [] }
            guard let port = ports.first(where: { $0.name == portName }) else {
                problems.append("worker pod \(name) on \(node) declares no container port named \(portName)")
                continue
            }
            let host = ip.contains(":") ? "[\(ip)]" : ip
            out.append(WorkerEndpoint(node: node, url: "http://\(host):\(port.containerPort)\(path)", origin: "pod \(name)"))
        }
        return (out.sorted { ($0.node, $0.url) < ($1.node, $1.url) }, nodes, problems)
    }

    /// Asks every worker of `runtime` and reports what `read` finds in each answer as that node's
    /// bytes (nil: the answer lacks what `read` looks for, a problem named `missing`). A runtime
    /// whose worker pods are all gone is reported with no worker node, so what was said of its
    /// nodes is dropped at once rather than at the TTL.
    public func observe(
        runtime: FluidRuntime, cache: ClusterCache, probe: EngineProbe, source: LocalitySource, engine: String, missing: String,
        read: (String) -> TierBytes?
    ) async -> EngineReport? {
        let (endpoints, workerNodes, problems) = endpoints(of: runtime, cache: cache)
        guard !endpoints.isEmpty || !workerNodes.isEmpty || !problems.isEmpty else {
            return EngineReport(source: source, workerNodes: [])
        }
        var report = EngineReport(source: source, problems: problems, workerNodes: workerNodes)
        for (endpoint, answer) in await probe.scrape(endpoints) {
            let (node, url) = (endpoint.node, endpoint.url)
            switch answer {
            case .failure(let e):
                report.problems.append("\(engine) worker on \(node) (\(url)): \(e.description)")
            case .success(let text):
                guard let bytes = read(text) else {
                    report.problems.append("\(engine) worker on \(node) (\(url)): \(missing)")
                    continue
                }
                var b = report.nodes[node]?.bytes ?? TierBytes()
                for tier in Tier.allCases { b[tier] += bytes[tier] }
                report.nodes[node] = Observation(bytes: b, confirmedAt: probe.now(), source: source)
            }
        }
        return report
    }

    /// The annotation's `node=url` pairs; nil without the annotation. Malformed entries are dropped.
    static func annotated(_ runtime: FluidRuntime) -> [WorkerEndpoint]? {
        guard let text = runtime.metadata.annotations?[endpointsAnnotation] else { return nil }
        return text.split(separator: ",").compactMap { entry in
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix("http") else { return nil }
            return WorkerEndpoint(node: parts[0], url: parts[1], origin: "annotation \(endpointsAnnotation)")
        }
    }
}
