import Foundation
import Synchronization

/// What an informer reports about itself: its first list done, its counters, its contact with
/// the API server.
public struct InformerStatus: Sendable {
    public var synced: Bool
    public var stats: InformerStats
    public var contact: Contact
    /// While contact is lost, the failure that lost it, in words: the call, the HTTP status and
    /// the API server's message (`GET /apis/apps/v1/daemonsets: HTTP 403 Forbidden: …`).
    public var failure: String?

    public init(synced: Bool, stats: InformerStats, contact: Contact, failure: String? = nil) {
        self.synced = synced
        self.stats = stats
        self.contact = contact
        self.failure = failure
    }
}
