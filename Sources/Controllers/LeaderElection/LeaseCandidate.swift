public import Foundation
public import KubeClient

/// One replica's side of leader election over a `coordination.k8s.io/v1` Lease, as client-go's
/// `leaderelection` does it: pure decisions over the Lease as last read and an injected clock.
///
/// A lease held by another is taken over only once it has gone unrenewed for a whole lease
/// duration, measured on this replica's own clock from when it last saw the record change (not
/// from the holder's `renewTime`, so clocks need not agree). Every write carries the
/// resourceVersion it read: of two candidates, the API server lets one win.
public struct LeaseCandidate: Sendable {
    public let identity: String
    public let timings: LeaseTimings
    /// The record as last read, and when (this replica's clock) it was first seen as it is.
    private var observed: Lease.Spec?
    private var observedAt = Date.distantPast
    /// When this replica last wrote the lease as its holder.
    public private(set) var renewedAt: Date?

    public init(identity: String, timings: LeaseTimings) {
        self.identity = identity
        self.timings = timings
    }

    public enum Action: Sendable, Equatable {
        /// No lease yet: create it, held by this replica.
        case create(Lease.Spec)
        /// Write this record over the one read (take over, or renew).
        case update(Lease.Spec)
        /// Another replica holds it.
        case wait(holder: String)
    }

    /// What to do with `current`, the lease as read at `now` (nil: there is none).
    public mutating func next(current: Lease.Spec?, now: Date) -> Action {
        let stamp = KubeTime.microTime(now)
        guard let current else {
            return .create(
                Lease.Spec(
                    holderIdentity: identity, leaseDurationSeconds: Int(timings.leaseDuration.rounded(.up)), acquireTime: stamp,
                    renewTime: stamp, leaseTransitions: 0))
        }
        if current != observed {
            observed = current
            observedAt = now
        }
        let holder = current.holderIdentity ?? ""
        if !holder.isEmpty, holder != identity, now < observedAt.addingTimeInterval(timings.leaseDuration) {
            renewedAt = nil
            return .wait(holder: holder)
        }
        var record = current
        let wasHolder = holder == identity
        record.holderIdentity = identity
        record.leaseDurationSeconds = Int(timings.leaseDuration.rounded(.up))
        record.renewTime = stamp
        if !wasHolder {
            record.acquireTime = stamp
            record.leaseTransitions = (current.leaseTransitions ?? 0) + 1
        }
        return .update(record)
    }

    /// The write of `record` at `now` succeeded.
    public mutating func wrote(_ record: Lease.Spec, at now: Date) {
        observed = record
        observedAt = now
        renewedAt = record.holderIdentity == identity ? now : nil
    }

    /// A write failed (conflict, or the API server did not answer): leadership lasts only until
    /// the renew deadline after the last good write.
    public func isLeader(at now: Date) -> Bool {
        guard let renewedAt else { return false }
        return now < renewedAt.addingTimeInterval(timings.renewDeadline)
    }

    /// Some replica (this one or another) holds the lease and renews it: the record read last
    /// names a holder and last changed within a lease duration, or this replica leads.
    public func someoneLeads(at now: Date) -> Bool {
        if isLeader(at: now) { return true }
        guard let holder = observed?.holderIdentity, !holder.isEmpty else { return false }
        return now < observedAt.addingTimeInterval(timings.leaseDuration)
    }

    /// The record that gives the lease up (client-go's release on cancel): no holder, and a
    /// duration of one second, so the next candidate takes it at once.
    public func release(of current: Lease.Spec, now: Date) -> Lease.Spec? {
        guard current.holderIdentity == identity else { return nil }
        var record = current
        record.holderIdentity = nil
        record.leaseDurationSeconds = 1
        record.renewTime = KubeTime.microTime(now)
        return record
    }
}
