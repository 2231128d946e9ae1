import Foundation
public import KubeClient

/// A FUSE engine whose workers say where its bytes are: its pods reach data the way every Fluid
/// FUSE engine's do (`FuseEngine`); only `observe` is its own.
public protocol ReportingFuseEngine: EnginePlugin {}

extension ReportingFuseEngine {
    public func access(dataset: Dataset, runtime: FluidRuntime, volume: PersistentVolume?, catalog: any DatasetCatalog) throws -> DataAccess
    {
        try FuseEngine(kind: kind).access(dataset: dataset, runtime: runtime, volume: volume, catalog: catalog)
    }
}
