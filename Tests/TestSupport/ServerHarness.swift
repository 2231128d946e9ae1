import Foundation
import KubeClient
import Locality
import Logging
import Mutators
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization
import WebhookServer

/// A `LocusServer` running in this process on an ephemeral port, with certificates in a temp dir.
public struct RunningLocus: Sendable {
    public let port: Int
    public let dir: TempDir
    public let certs: GeneratedCertificates
    public let certificates: CertificateStore
    public let server: LocusServer
    public let group: ServiceGroup
    public let task: Task<Void, any Error>

    public static func start(
        backend: ClusterBackend = .fixed(ClusterCache()), staticCache: [StaticCacheEntry] = [], engineProbe: EngineProbe? = nil,
        configure: (inout ServeConfig) -> Void = { _ in }
    ) async throws -> RunningLocus {
        let dir = try TempDir()
        let certs = try WebhookServerTestCerts.make()
        try certs.write(to: dir.path)
        var config = ServeConfig()
        config.address = "127.0.0.1"
        config.port = 0
        config.certReloadSeconds = 0.1
        config.shutdownGraceSeconds = 5
        config.shutdownDelaySeconds = 0
        configure(&config)
        var logger = Logger(label: "locus-test")
        logger.logLevel = .warning
        let store = try CertificateStore(
            certificatePath: dir.file("tls.crt"), keyPath: dir.file("tls.key"), clientCAPath: config.clientCAFile, logger: logger)
        let server = LocusServer(
            config: config, backend: backend, certificates: store,
            policy: config.admissionPolicy(
                nativeSidecars: config.kubernetesVersion.flatMap { MutationConfig.hasNativeSidecars(version: $0) } ?? true),
            staticCache: staticCache, engineProbe: engineProbe, logger: logger)
        let (portStream, portCont) = AsyncStream<Int>.makeStream()
        let group = server.serviceGroup(signals: []) { port in portCont.yield(port) }
        let task = Task { try await group.run() }
        var it = portStream.makeAsyncIterator()
        guard let port = await it.next() else { throw TestFailure("server did not start") }
        return RunningLocus(port: port, dir: dir, certs: certs, certificates: store, server: server, group: group, task: task)
    }

    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        dir.cleanup()
    }

    public var url: String { "https://localhost:\(port)" }
}

/// One TLS connection, several HTTP/1.1 requests on it in turn: proves a connection survives.
public final class SingleConnection: @unchecked Sendable {
    public var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    public let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>

    public init(
        _ inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>, _ outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    ) {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    /// Opens a connection, runs `body` with it, closes it.
    public static func with<T: Sendable>(
        port: Int, caPEM: [String], maxTLS: TLSVersion? = nil, _ body: (SingleConnection) async throws -> T
    ) async throws -> T {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try caPEM.flatMap { try NIOSSLCertificate.fromPEMBytes(Array($0.utf8)) })
        if let maxTLS {
            tls.maximumTLSVersion = maxTLS
            tls.minimumTLSVersion = .tlsv1
        }
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(SingleConnection(inbound, outbound))
        }
    }

    /// Sends a request and reads its whole response. `slowBody` sends the body in pieces with pauses.
    public func request(_ method: HTTPMethod = .GET, _ path: String, body: [UInt8]? = nil, slowBody: (chunks: Int, pause: Duration)? = nil)
        async throws -> (status: Int, body: String)
    {
        var headers = HTTPHeaders([("Host", "localhost")])
        if let body {
            headers.add(name: "Content-Length", value: String(body.count))
            headers.add(name: "Content-Type", value: "application/json")
        }
        try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)))
        if let body {
            if let slow = slowBody {
                let size = max(1, body.count / slow.chunks)
                var offset = 0
                while offset < body.count {
                    let end = min(body.count, offset + size)
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body[offset..<end]))))
                    offset = end
                    if offset < body.count { try await Task.sleep(for: slow.pause) }
                }
            } else {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
            }
        }
        try await outbound.write(.end(nil))
        var status = 0
        var text = ""
        while let part = try await inbound.next() {
            switch part {
            case .head(let h): status = Int(h.status.code)
            case .body(let b): text += String(buffer: b)
            case .end: return (status, text)
            }
        }
        throw TestFailure("connection closed before the response ended")
    }
}
