/// The warm-up controller's series (kept by the server's metrics registry).
public protocol WarmUpMetrics: Sendable {
    /// Pods the leader sees waiting behind Locus's gate now.
    func setGatedPods(_ count: Int)
    /// A gate lifted, why, and how long the pod waited.
    func recordLift(reason: LiftReason, waitedSeconds: Double)
    /// A warm-up (DataLoad) Locus created, and how one of Locus's ended (`completed`, `failed`).
    func recordWarmUp(_ outcome: String)
}
