import Foundation
public import HummingbirdCore
import KubeClient
public import Logging
public import NIOCore
import NIOHTTPTypesHTTP1
import NIOSSL
import Synchronization

/// A server child channel that puts TLS in front of `base`, taking the certificate from a
/// `CertificateStore` at each new connection, and bounds how long a request may take to arrive
/// and how long a connection may stay idle (`RequestReadDeadline`; `base` is given no idle
/// timeout of its own).
public struct ReloadingTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value
    let base: Base
    let store: CertificateStore
    let deadlines: ReadDeadlines
    /// What each connection's `AnswerOnEventLoop` answers with, and up to which size (nil: every
    /// request goes to the router).
    let mutateOnEventLoop: (routes: LocusRoutes, maxBytes: Int)?

    init(
        _ base: Base, store: CertificateStore, deadlines: ReadDeadlines,
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
            let driver = try RequestReadDeadline.addRaw(
                to: channel, head: deadlines.head, body: deadlines.body, idle: deadlines.idle, stats: deadlines.stats)
            let configured = base.setup(channel: channel, logger: logger)
            let fast = mutateOnEventLoop
            return configured.assumeIsolated().flatMapThrowing { value in
                try RequestReadDeadline.addParts(to: channel, driver: driver)
                if let fast {
                    // Right behind the HTTP/1 decoder's handlers (pipelining, read deadlines), which
                    // thus see every request and answer, and in front of the conversion to HTTP
                    // types, the connection-state handler and the router (see `AnswerOnEventLoop`).
                    let codec = try channel.pipeline.syncOperations.context(handlerType: HTTP1ToHTTPServerCodec.self)
                    try channel.pipeline.syncOperations.addHandler(
                        AnswerOnEventLoop(routes: fast.routes, maxBytes: fast.maxBytes), position: .before(codec.handler))
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
