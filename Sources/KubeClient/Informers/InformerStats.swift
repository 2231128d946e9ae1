import Foundation
import Synchronization

/// Counters an informer keeps, for metrics and tests.
public struct InformerStats: Sendable, Equatable {
    public var lists = 0
    public var watches = 0
    public var relistsAfterGone = 0
    public var relistsAfterError = 0
    public var reconnects = 0
    public var events = 0
    /// Events received again with a resourceVersion the store already had: a wrong resume point.
    public var replayedEvents = 0
    /// Watches abandoned because they stayed silent past the bound.
    public var silentWatches = 0
    public var lastError: String?
    /// Failed lists and watches by kind (`HTTP 403`, `unreachable`, …; see `KubeAPIError.kind`).
    public var failures: [String: Int] = [:]
}
