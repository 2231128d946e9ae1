import Foundation
import HummingbirdCore
import KubeClient
import Logging
public import NIOCore
import NIOSSL
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
