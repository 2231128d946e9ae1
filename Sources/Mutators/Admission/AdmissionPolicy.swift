import Foundation
public import Locality

/// What the operator chose for requests Locus cannot serve.
public struct AdmissionPolicy: Sendable, Equatable {
    public enum OnFailure: String, Sendable, CaseIterable {
        /// Deny the pod with the reason (pair with `failurePolicy: Fail`).
        case deny
        /// Admit the pod without the datasets that failed, with a warning (pair with `failurePolicy: Ignore`).
        case allow
    }
    public var onFailure = OnFailure.deny
    /// Tell the pod's owner, in one AdmissionReview warning, which datasets were wired and how
    /// (kubectl prints it; the same is recorded in `locus.dev/injected`).
    public var announceInjections = true
    public var mutation = MutationConfig()
    /// Write `AdmissionResult.explanations` (for `locus mutate`); the webhook answers without them.
    public var explain = true
    /// Warm before scheduling: which pods wait, gated, for their datasets to be warm.
    public var warm = WarmPolicy()

    public init() {}
}
