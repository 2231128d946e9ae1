public import JSON

/// The mutated pod and why it looks that way.
public struct Mutation: Sendable {
    public var pod: JSONValue
    public var explanations: [Explanation]
    /// Things the pod's owner should know (shown as AdmissionReview warnings).
    public var warnings: [String]
    /// The datasets this mutation wired (not those already in the pod's record).
    public var injections: [Injection] = []
    /// Datasets that could not be wired as asked, and why (the caller denies the pod, or admits
    /// it without them, as the policy says); such a dataset is left out of the pod.
    public var problems: [String] = []
}
