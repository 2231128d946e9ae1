import Foundation
public import KubeClient

/// JuiceFS: a FUSE engine that also says where its bytes are. Each JuiceFS client (a Fluid
/// JuiceFS worker runs `juicefs mount … -o metrics=0.0.0.0:<port>`) serves Prometheus text with
/// `juicefs_blockcache_bytes{vol_name=…}`, the bytes of its local block cache.
///
/// Where the workers are: the runtime's worker pods (`role: juicefs-worker`, container port
/// `metrics`, path `/metrics`), or the annotation `locus.dev/metrics-endpoints` (see
/// `WorkerDiscovery`). The volume: the runtime's `locus.dev/juicefs-volume`, else the dataset's
/// first mount name. The tier: the runtime's first tieredstore level (SSD when it names none).
public struct JuiceFSEngine: ReportingFuseEngine {
    public static let volumeAnnotation = "locus.dev/juicefs-volume"
    public static let workers = WorkerDiscovery(role: "juicefs-worker", portName: "metrics", path: "/metrics")

    public var kind: FluidRuntimeKind { .juicefs }
    public init() {}

    public func observe(dataset: Dataset, runtime: FluidRuntime, cache: ClusterCache, probe: EngineProbe) async -> EngineReport? {
        let volume =
            runtime.metadata.annotations?[Self.volumeAnnotation] ?? dataset.spec?.mounts?.first?.name ?? dataset.metadata.name ?? ""
        let tier = runtime.spec?.tieredstore?.levels?.first.flatMap { Tier(mediumType: $0.mediumtype ?? "") } ?? .ssd
        return await Self.workers.observe(
            runtime: runtime, cache: cache, probe: probe, source: .juicefs, engine: "JuiceFS",
            missing: "no juicefs_blockcache_bytes series for volume \(volume)"
        ) { text in
            Self.blockCacheBytes(metrics: text, volume: volume).map { bytes in
                var b = TierBytes()
                b[tier] = bytes
                return b
            }
        }
    }

    /// Sum of `juicefs_blockcache_bytes` over the series of `volume` (one per mount point); nil when
    /// the text has no such series (not JuiceFS, or another volume).
    public static func blockCacheBytes(metrics text: String, volume: String) -> Int64? {
        var total: Double?
        for s in PrometheusText.samples(text) where s.name == "juicefs_blockcache_bytes" && s.value >= 0 {
            guard PrometheusText.labelValue(s.labels, "vol_name") == volume else { continue }
            total = (total ?? 0) + s.value
        }
        return total.map { Int64($0.rounded()) }
    }
}
