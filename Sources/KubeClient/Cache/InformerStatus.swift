import Foundation
import Synchronization

/// What an informer reports about itself: its first list done, its counters, its contact with
/// the API server.
public struct InformerStatus: Sendable {
    public var synced: Bool
    public var stats: InformerStats
    public var contact: Contact

    public init(synced: Bool, stats: InformerStats, contact: Contact) {
        self.synced = synced
        self.stats = stats
        self.contact = contact
    }
}
