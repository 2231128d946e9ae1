import Foundation
public import Hummingbird
public import NIOCore
import Synchronization

/// The request context of Locus's routes: Hummingbird's, plus the connection's channel (to ask
/// TLS who the client is).
public struct LocusRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
