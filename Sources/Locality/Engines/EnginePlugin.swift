import Foundation
public import KubeClient

/// One cache engine kind: how pods reach its data (used by the webhook) and, for the
/// extender, where its bytes are. One plugin per engine kind; adding an engine is one file.
public protocol EnginePlugin: Sendable {
    var kind: FluidRuntimeKind { get }
    /// How a pod reaches `dataset` through `runtime`. `volume` is the dataset's PV when Fluid made
    /// one; `catalog` holds the cluster objects the engine's pods are rendered from (its FUSE DaemonSet).
    func access(dataset: Dataset, runtime: FluidRuntime, volume: PersistentVolume?, catalog: any DatasetCatalog) throws -> DataAccess
    /// The engine's own figures for `dataset`: it is asked where the bytes it serves are. nil when the
    /// engine reports nothing per node (Fluid's status estimate then stands alone). Off the request path;
    /// every network call is bounded by `probe.timeout`, and a failure is a `problem`, never a throw.
    func observe(dataset: Dataset, runtime: FluidRuntime, cache: ClusterCache, probe: EngineProbe) async -> EngineReport?
}

extension EnginePlugin {
    public func observe(dataset: Dataset, runtime: FluidRuntime, cache: ClusterCache, probe: EngineProbe) async -> EngineReport? { nil }
}
