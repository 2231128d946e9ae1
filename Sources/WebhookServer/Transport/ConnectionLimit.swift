public import HummingbirdCore
public import Logging
import Synchronization

/// At most `limit` connections at once (Hummingbird's accept back-pressure): past it the server
/// stops accepting until one closes, so a flood of connections cannot exhaust file descriptors
/// or memory, and connections already open keep being served.
public struct ConnectionLimit: AvailableConnectionsDelegate {
    let limit: Int
    let stats: ConnectionStats
    let logger: Logger

    public init(limit: Int, stats: ConnectionStats, logger: Logger) {
        self.limit = limit
        self.stats = stats
        self.logger = logger
    }

    public mutating func connectionOpened() {
        let now = stats.open.add(1, ordering: .relaxed).newValue
        if now == limit {
            stats.deferred.add(1, ordering: .relaxed)
            logger.warning("connection limit reached: new connections wait until one closes", metadata: ["maxConnections": "\(limit)"])
        }
    }

    public mutating func connectionClosed() { stats.open.subtract(1, ordering: .relaxed) }

    public func isAcceptingNewConnections() -> Bool { stats.open.load(ordering: .relaxed) < limit }
}
