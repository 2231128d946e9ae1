import Foundation
import HummingbirdCore
import Synchronization

extension HTTPServerBuilder {
    /// HTTP/1.1 with keep-alive behind TLS whose certificate is re-read on rotation, with bounded
    /// request reads and idle time (`deadlines`; `configuration`'s idle timeout is not used).
    /// With `mutateOnEventLoop`, reviews and extender requests are answered on the event loop (see `AnswerOnEventLoop`).
    static func reloadingTLS(
        store: CertificateStore, configuration: HTTP1Channel.Configuration, deadlines: ReadDeadlines,
        mutateOnEventLoop: (routes: LocusRoutes, maxBytes: Int)? = nil
    ) -> HTTPServerBuilder {
        var configuration = configuration
        configuration.idleTimeout = nil  // the idle timeout is `deadlines`'
        return .init { [configuration] responder in
            ReloadingTLSChannel(
                HTTP1Channel(responder: responder, configuration: configuration), store: store, deadlines: deadlines,
                mutateOnEventLoop: mutateOnEventLoop)
        }
    }
}
