/// How a pod reaches a dataset's bytes, as the engine that serves them defines it.
public enum DataAccess: Sendable, Hashable {
    /// A FUSE filesystem: the engine's FUSE container mounts the dataset at `mountPath`.
    case fuse(FuseTemplate)
    /// Shared memory over a Unix socket on the node.
    case sharedMemory(SharedMemoryEndpoint)
}

/// The FUSE container of a runtime, taken from the runtime object (`spec.fuse`).
public struct FuseTemplate: Sendable, Hashable {
    public var image: String
    public var imagePullPolicy: String?
    public var command: [String]?
    public var args: [String]?
    /// `[{name, value|valueFrom}]` exactly as the runtime gives them.
    public var env: JSONValue?
    /// `{requests, limits}` from the runtime; nil when it gives none.
    public var resources: JSONValue?
    /// Where the FUSE process mounts the dataset inside its container (Fluid's `fluid_path`).
    public var mountPath: String
    /// The runtime asks for a privileged FUSE container.
    public var privileged: Bool

    public init(
        image: String, imagePullPolicy: String? = nil, command: [String]? = nil, args: [String]? = nil,
        env: JSONValue? = nil, resources: JSONValue? = nil, mountPath: String, privileged: Bool = false
    ) {
        self.image = image
        self.imagePullPolicy = imagePullPolicy
        self.command = command
        self.args = args
        self.env = env
        self.resources = resources
        self.mountPath = mountPath
        self.privileged = privileged
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

/// Why an engine cannot serve a pod.
public struct EngineError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One cache engine kind: how pods reach its data (used by the webhook) and, for the
/// extender, where its bytes are. One plugin per engine kind; adding an engine is one file.
public protocol EnginePlugin: Sendable {
    var kind: FluidRuntimeKind { get }
    /// How a pod reaches `dataset` through `runtime`. `volume` is the dataset's PV when Fluid made one.
    func access(dataset: Dataset, runtime: FluidRuntime, volume: PersistentVolume?) throws -> DataAccess
}

/// The plugin for each engine kind.
public enum EnginePlugins {
    public static let all: [FluidRuntimeKind: any EnginePlugin] = {
        var m: [FluidRuntimeKind: any EnginePlugin] = [:]
        for kind in FuseEngine.kinds { m[kind] = FuseEngine(kind: kind) }
        m[.vineyard] = VineyardEngine()
        return m
    }()

    public static func plugin(for kind: FluidRuntimeKind) -> (any EnginePlugin)? { all[kind] }
}
