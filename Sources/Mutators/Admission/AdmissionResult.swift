import Foundation
public import JSON
public import Locality

/// The outcome of one review, for metrics, logs and `locus mutate`.
public struct AdmissionResult: Sendable {
    public enum Outcome: String, Sendable, CaseIterable {
        /// Changed the pod.
        case mutated
        /// Opted in, nothing to change (already wired, or nothing to do).
        case unchanged
        /// Not a pod CREATE, or the pod did not opt in.
        case skipped
        /// Denied with a reason.
        case denied
        /// Admitted despite a problem (policy `allow`), with a warning.
        case allowedWithProblems = "allowed_with_problems"
    }
    public var response: AdmissionResponse
    public var outcome: Outcome
    /// Engines of the datasets involved (for metrics).
    public var engines: [String]
    public var explanations: [Explanation]
    public var problems: [String]
    /// The pod as admitted (nil when skipped or denied).
    public var pod: JSONValue?
    /// What was wired (for metrics and the owner's warning).
    public var injections: [Injection] = []
    /// The decision read what changes without the cluster cache changing (the locality view, the
    /// warm-up controller's liveness: a warm-up gate was weighed): the answer holds only for this
    /// review and must not be replayed.
    public var readsLiveState = false
    /// What the pod waits for when it was gated until its data is warm.
    public var warmWait: WarmWait?
}
