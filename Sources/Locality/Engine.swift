import AsyncHTTPClient
import Foundation
import KubeClient

/// How a pod reaches a dataset's bytes, as the engine that serves them defines it.
public enum DataAccess: Sendable, Hashable {
    /// A FUSE filesystem: the engine's FUSE container mounts the dataset at `mountPath`.
    case fuse(FuseTemplate)
    /// Shared memory over a Unix socket on the node.
    case sharedMemory(SharedMemoryEndpoint)
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

/// A FUSE engine whose workers say where its bytes are: its pods reach data the way every Fluid
/// FUSE engine's do (`FuseEngine`); only `observe` is its own.
public protocol ReportingFuseEngine: EnginePlugin {}

extension ReportingFuseEngine {
    public func access(dataset: Dataset, runtime: FluidRuntime, volume: PersistentVolume?, catalog: any DatasetCatalog) throws -> DataAccess {
        try FuseEngine(kind: kind).access(dataset: dataset, runtime: runtime, volume: volume, catalog: catalog)
    }
}

/// How engines are asked: the HTTP client for engines that speak HTTP, and the bound on each call.
public struct EngineProbe: Sendable {
    public var http: HTTPClient
    public var timeout: Duration
    public var now: @Sendable () -> Date

    public init(http: HTTPClient, timeout: Duration = .seconds(2), now: @escaping @Sendable () -> Date = { Date() }) {
        self.http = http
        self.timeout = timeout
        self.now = now
    }
}

/// What an engine said about one dataset.
public struct EngineReport: Sendable {
    public var source: LocalitySource
    /// node → what is cached there. A node the engine answered for with nothing cached holds a
    /// zero figure (an exact "none here", which beats Fluid's estimate).
    public var nodes: [String: Observation]
    /// Endpoints that failed, timed out or answered something else, in words for the log.
    public var problems: [String]
    /// Shared memory per node as the engine reports it (used / limit), for metrics and `locus score`.
    public var memory: [String: (used: Int64, limit: Int64)]
    /// The nodes the engine has workers on now, when it knows: a figure said earlier about any
    /// other node is dropped at once (its worker moved or is gone), not left to expire. nil: the
    /// engine cannot tell, and unanswered figures expire at the TTL.
    public var workerNodes: Set<String>?

    public init(
        source: LocalitySource, nodes: [String: Observation] = [:], problems: [String] = [],
        memory: [String: (used: Int64, limit: Int64)] = [:], workerNodes: Set<String>? = nil
    ) {
        self.source = source
        self.nodes = nodes
        self.problems = problems
        self.memory = memory
        self.workerNodes = workerNodes
    }
}

/// The plugin for each engine kind.
public enum EnginePlugins {
    public static let all: [FluidRuntimeKind: any EnginePlugin] = {
        var m: [FluidRuntimeKind: any EnginePlugin] = [:]
        for kind in FuseEngine.kinds { m[kind] = FuseEngine(kind: kind) }
        m[.juicefs] = JuiceFSEngine()
        m[.alluxio] = AlluxioEngine()
        m[.vineyard] = VineyardEngine()
        return m
    }()

    public static func plugin(for kind: FluidRuntimeKind) -> (any EnginePlugin)? { all[kind] }
}
