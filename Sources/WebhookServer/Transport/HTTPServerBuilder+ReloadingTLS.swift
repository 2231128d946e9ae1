import Foundation
import HummingbirdCore
import Synchronization

extension HTTPServerBuilder {
    /// HTTP/1.1 with keep-alive behind TLS whose certificate is re-read on rotation, with bounded request reads.
    /// With `mutateOnEventLoop`, reviews are answered on the event loop (see `MutateOnEventLoop`).
    static func reloadingTLS(
        store: CertificateStore, configuration: HTTP1Channel.Configuration, deadlines: ReadDeadlines? = nil,
        mutateOnEventLoop: (routes: LocusRoutes, maxBytes: Int)? = nil
    ) -> HTTPServerBuilder {
        .init { responder in
            ReloadingTLSChannel(
                HTTP1Channel(responder: responder, configuration: configuration), store: store, deadlines: deadlines,
                mutateOnEventLoop: mutateOnEventLoop)
        }
    }
}
