/// Vineyard, the shared-memory engine: clients connect to vineyardd's IPC socket on their node.
/// Fluid's layout: socket directory `/runtime-mnt/vineyard/<ns>/<name>` (the runtime may name
/// another with `locus.dev/socket-dir`, e.g. the operator's `/var/run/vineyard-kubernetes/<ns>/<name>`),
/// socket `vineyard.sock`, ConfigMap `<name>-rpc-conf` with `VINEYARD_RPC_ENDPOINT`.
public struct VineyardEngine: EnginePlugin {
    public var kind: FluidRuntimeKind { .vineyard }

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
}
