import Foundation
public import HummingbirdCore
import KubeClient
public import Logging
public import NIOCore
import NIOSSL
import Synchronization

/// A server child channel that puts TLS in front of `base`, taking the certificate from a
/// `CertificateStore` at each new connection, and bounds how long a request may take to arrive.
public struct ReloadingTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value
    let base: Base
    let store: CertificateStore
    let deadlines: ReadDeadlines?
    /// What each connection's `AnswerOnEventLoop` answers with, and up to which size (nil: every
    /// request goes to the router).
    let mutateOnEventLoop: (routes: LocusRoutes, maxBytes: Int)?

    init(
        _ base: Base, store: CertificateStore, deadlines: ReadDeadlines? = nil,
        mutateOnEventLoop: (routes: LocusRoutes, maxBytes: Int)? = nil
    ) {
        self.base = base
        self.store = store
        self.deadlines = deadlines
        self.mutateOnEventLoop = mutateOnEventLoop
    }

    /// Called on the channel's event loop.
    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: store.context))
            let driver = try deadlines.map {
                try RequestReadDeadline.addRaw(to: channel, head: $0.head, body: $0.body, stats: $0.stats)
            }
            let configured = base.setup(channel: channel, logger: logger)
            let fast = mutateOnEventLoop
            guard driver != nil || fast != nil else { return configured }
            return configured.assumeIsolated().flatMapThrowing { value in
                if let driver { try RequestReadDeadline.addParts(to: channel, driver: driver) }
                if let fast {
                    // Behind the connection-state handler (idle timeout, quiesce on shutdown), which
                    // thus sees every request and answer, and in front of the router.
                    let connectionState = try channel.pipeline.syncOperations.context(handlerType: HTTPConnectionStateHandler.self)
                    try channel.pipeline.syncOperations.addHandler(
                        AnswerOnEventLoop(routes: fast.routes, maxBytes: fast.maxBytes), position: .after(connectionState.handler))
                }
                return value
            }.nonisolated()
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    public func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
