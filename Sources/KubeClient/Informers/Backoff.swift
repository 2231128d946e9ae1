import Foundation
import Synchronization

/// Capped exponential backoff with jitter: each failure doubles the delay up to `cap`, and the
/// delay actually slept is drawn uniformly from its upper half so that replicas do not
/// reconnect in step.
public struct Backoff: Sendable {
    public var base: Duration
    public var cap: Duration
    private(set) var failures = 0

    public init(base: Duration = .milliseconds(500), cap: Duration = .seconds(30)) {
        self.base = base
        self.cap = cap
    }

    public mutating func next() -> Duration {
        let exp = min(failures, 30)
        failures += 1
        let ceiling = min(cap, base * (1 << exp))
        let ns = Double(ceiling.components.seconds) * 1e9 + Double(ceiling.components.attoseconds) / 1e9
        return .nanoseconds(Int64(ns * Double.random(in: 0.5...1.0)))
    }

    public mutating func reset() { failures = 0 }
}
