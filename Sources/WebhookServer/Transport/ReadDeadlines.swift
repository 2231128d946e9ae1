import Foundation
import KubeClient
public import NIOCore
import Synchronization

/// Bounds on a client's reads (see `RequestReadDeadline`).
public struct ReadDeadlines: Sendable {
    public var head: TimeAmount
    public var body: TimeAmount
    public var stats: ConnectionStats

    public init(head: TimeAmount, body: TimeAmount, stats: ConnectionStats) {
        self.head = head
        self.body = body
        self.stats = stats
    }
}
