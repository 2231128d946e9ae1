import Foundation

/// How long a lease lasts, how long a leader keeps trying to renew it before it stops acting,
/// and how often candidates try: controller-runtime's defaults (15 s, 10 s, 2 s). The renew
/// deadline is shorter than the lease, so a leader that cannot renew stops acting before
/// another replica may take the lease over.
public struct LeaseTimings: Sendable, Equatable {
    public var leaseDuration: Double = 15
    public var renewDeadline: Double = 10
    public var retryPeriod: Double = 2

    public init(leaseDuration: Double = 15, renewDeadline: Double = 10, retryPeriod: Double = 2) {
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }

    /// What is wrong with these timings, or nil (client-go's checks).
    public var problem: String? {
        if leaseDuration <= renewDeadline { return "the lease duration must be longer than the renew deadline" }
        if renewDeadline <= retryPeriod * 1.2 { return "the renew deadline must be longer than 1.2 retry periods" }
        return nil
    }
}
