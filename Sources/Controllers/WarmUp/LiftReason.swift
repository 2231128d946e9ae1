/// Why the warm-up gate of a pod was lifted.
public enum LiftReason: String, Sendable, CaseIterable {
    /// The node the extender would pick holds the threshold of every dataset the pod waits for.
    case warm
    /// Every warm-up (DataLoad) the pod waited for completed.
    case loaded
    /// A warm-up failed: the pod starts with the cache as it is.
    case failed
    /// The deadline passed: the pod starts cold.
    case deadline
    /// A dataset the pod waits for is gone, or the pod's wait cannot be read.
    case abandoned
    /// Someone removed the gate by hand: Locus only clears its label.
    case byHand = "by_hand"

    /// The reason of the Kubernetes Event left on the pod.
    public var eventReason: String {
        switch self {
        case .warm: "DatasetWarm"
        case .loaded: "WarmUpComplete"
        case .failed: "WarmUpFailed"
        case .deadline: "WarmUpDeadline"
        case .abandoned: "WarmUpAbandoned"
        case .byHand: "WarmUpGateRemoved"
        }
    }

    /// `Normal` or `Warning` (the pod starts without what it waited for).
    public var eventType: String {
        switch self {
        case .warm, .loaded, .byHand: "Normal"
        case .failed, .deadline, .abandoned: "Warning"
        }
    }
}
