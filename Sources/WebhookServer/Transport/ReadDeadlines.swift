import Foundation
import KubeClient
public import NIOCore
import Synchronization

/// Bounds on a client's reads and on its idle time between requests (see `RequestReadDeadline`).
public struct ReadDeadlines: Sendable {
    public var head: TimeAmount
    public var body: TimeAmount
    /// How long a keep-alive connection may stay idle between requests (nil: for ever).
    public var idle: TimeAmount?
    public var stats: ConnectionStats

    public init(head: TimeAmount, body: TimeAmount, idle: TimeAmount?, stats: ConnectionStats) {
        self.head = head
        self.body = body
        self.idle = idle
        self.stats = stats
    }
}
