public import Foundation

/// Whether an informer is in contact with the API server: a pure state machine over the
/// informer's successes and failures, with the time passed in, so it is tested without a server.
///
/// Contact is any answer: a list, a watch that opened, an event or a bookmark. It is lost when a
/// call fails: the server cannot be reached, or it answers with an error (403, 5xx, a body that
/// cannot be read). A watch silent for longer than the bound (`isSilent`) is only re-established:
/// a half-open connection to a server that went away sends nothing and never fails, and it is the
/// new watch's request that fails if the server is gone. Each loss and each return is reported
/// once, so an outage logs two lines per resource, not one per retry. A first list that fails is
/// a loss too (from `unknown`): an informer that never synced says why.
public struct Contact: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        /// Nothing heard yet (before the first list).
        case unknown
        case inContact
        /// Lost at `since` (the last answer before it is `lastHeard`, nil if there was none).
        case lost(since: Date)
    }

    /// What a step changed, for the one log line it deserves.
    public enum Transition: Sendable, Equatable {
        case lost
        /// Contact is back after `outage` seconds without it (counted from the last answer, or
        /// from the first failure when nothing was ever heard).
        case restored(outage: TimeInterval)
    }

    public private(set) var state: State = .unknown
    /// The last time the server answered anything; nil before the first answer.
    public private(set) var lastHeard: Date?

    public init() {}

    /// The server answered at `now`.
    public mutating func heard(at now: Date) -> Transition? {
        defer {
            lastHeard = now
            state = .inContact
        }
        if case .lost(let since) = state { return .restored(outage: now.timeIntervalSince(lastHeard ?? since)) }
        return nil
    }

    /// A call failed at `now`.
    public mutating func failed(at now: Date) -> Transition? {
        if case .lost = state { return nil }
        state = .lost(since: now)
        return .lost
    }

    /// True when nothing was heard for longer than `bound` (a watch this quiet is re-established).
    public func isSilent(at now: Date, bound: TimeInterval) -> Bool {
        guard let lastHeard else { return false }
        return now.timeIntervalSince(lastHeard) > bound
    }

    /// Seconds since the server last answered; nil before the first answer.
    public func secondsSinceHeard(at now: Date) -> TimeInterval? {
        lastHeard.map { max(0, now.timeIntervalSince($0)) }
    }
}
