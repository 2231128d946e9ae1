import Foundation
import KubeClient

/// How a pod reaches a dataset's bytes, as the engine that serves them defines it.
public enum DataAccess: Sendable, Hashable {
    /// A FUSE filesystem: the engine's FUSE container mounts the dataset at `mountPath`.
    case fuse(FuseTemplate)
    /// Shared memory over a Unix socket on the node.
    case sharedMemory(SharedMemoryEndpoint)

    /// Whether the pod reads over a shared-memory socket (and so needs the engine on its node).
    public var isSharedMemory: Bool {
        if case .sharedMemory = self { return true }
        return false
    }
}

/// A shared-memory engine's socket on the node and the ConfigMap that tells clients where it is.
public struct SharedMemoryEndpoint: Sendable, Hashable {
    /// The socket directory on the node (hostPath).
    public var socketDirectory: String
    /// The socket's file name inside that directory.
    public var socketFile: String
    /// The environment variable clients read the socket path from.
    public var socketEnvironmentVariable: String
    /// The ConfigMap (runtime's namespace) carrying the RPC endpoint.
    public var configMap: String

    public init(socketDirectory: String, socketFile: String, socketEnvironmentVariable: String, configMap: String) {
        self.socketDirectory = socketDirectory
        self.socketFile = socketFile
        self.socketEnvironmentVariable = socketEnvironmentVariable
        self.configMap = configMap
    }
}
