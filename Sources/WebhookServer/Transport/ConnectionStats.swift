import Synchronization

/// Connection counts for metrics: open now, refused by the limit (deferred: the listener stops
/// accepting, new connections wait in the kernel's backlog), and closed for reading too slowly.
public final class ConnectionStats: Sendable {
    let open = Atomic<Int>(0)
    let deferred = Atomic<Int>(0)
    let slowClosed = Atomic<Int>(0)

    public init() {}

    public var openConnections: Int { open.load(ordering: .relaxed) }
    public var deferredAccepts: Int { deferred.load(ordering: .relaxed) }
    public var slowClientsClosed: Int { slowClosed.load(ordering: .relaxed) }
}
