import Foundation
public import KubeClient

/// Alluxio: a FUSE engine whose workers say what they cache. A Fluid AlluxioRuntime serves one
/// dataset, so a worker's used cache capacity is that dataset's bytes on the worker's node.
///
/// Each worker serves Prometheus text at `/metrics/prometheus/` on its web port (container port
/// `web` of the pods labelled `role: alluxio-worker`; or the annotation
/// `locus.dev/metrics-endpoints`, see `WorkerDiscovery`). Alluxio 2.x exports its Dropwizard
/// gauges with every character outside `[A-Za-z0-9_:]` as `_`, with the worker's host appended
/// to the name (`Worker_CapacityUsedTierMEM_10_0_0_5`, as Fluid's default 2.9.0 does) or, where
/// `alluxio.metrics.key.including.unique.id.enabled` is false, without it
/// (`Worker_CapacityUsedTierMEM`). Per-tier gauges are read when present; else
/// `Worker_CapacityUsed` goes to the runtime's first tier.
public struct AlluxioEngine: ReportingFuseEngine {
    public static let workers = WorkerDiscovery(role: "alluxio-worker", portName: "web", path: "/metrics/prometheus/")

    public var kind: FluidRuntimeKind { .alluxio }
    public init() {}

    public func observe(dataset: Dataset, runtime: FluidRuntime, cache: ClusterCache, probe: EngineProbe) async -> EngineReport? {
        let firstTier = runtime.spec?.tieredstore?.levels?.first.flatMap { Tier(mediumType: $0.mediumtype ?? "") } ?? .memory
        return await Self.workers.observe(
            runtime: runtime, cache: cache, probe: probe, source: .alluxio, engine: "Alluxio", missing: "no Worker_CapacityUsed gauge"
        ) { Self.usedCapacity(metrics: $0, firstTier: firstTier) }
    }

    /// The worker's used cache capacity per tier; nil when the text has no `Worker_CapacityUsed` gauge.
    public static func usedCapacity(metrics text: String, firstTier: Tier) -> TierBytes? {
        var perTier = TierBytes()
        var sawTier = false
        var total: Double?
        for s in PrometheusText.samples(text) where s.name.hasPrefix("Worker_CapacityUsed") && s.value >= 0 {
            let rest = s.name.dropFirst("Worker_CapacityUsed".count)
            if rest.isEmpty || rest.hasPrefix("_") {
                total = (total ?? 0) + s.value
            } else if rest.hasPrefix("Tier") {
                let medium = rest.dropFirst(4).prefix { $0 != "_" }
                guard let tier = Tier(mediumType: String(medium)) else { continue }
                perTier[tier] += Int64(s.value.rounded())
                sawTier = true
            }
        }
        if sawTier { return perTier }
        guard let total else { return nil }
        var out = TierBytes()
        out[firstTier] = Int64(total.rounded())
        return out
    }
}
