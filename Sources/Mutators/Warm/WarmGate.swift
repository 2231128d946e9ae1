public import Foundation
public import JSON
import KubeClient
public import Locality

/// Whether an admitted pod waits, gated, until its datasets are warm (warm before scheduling).
///
/// A pod that asks (`WarmPolicy.optedIn`) is gated when one of its FUSE datasets is below its
/// threshold on every node the locality view knows: it gets the scheduling gate
/// `locus.dev/dataset-warm`, the label the warm-up controller watches, and an annotation saying
/// what it waits for and until when (`WarmWait`). Shared-memory datasets never gate a pod: their
/// bytes are written by producers, and Fluid has no warm-up (DataLoad) for them.
public enum WarmGate {
    /// What was decided for one pod.
    public struct Decision: Sendable {
        /// What the pod waits for; nil: not gated.
        public var wait: WarmWait?
        /// The warmth of each dataset weighed (empty when the locality view was not read).
        public var warmth: [Warmth] = []
        /// For the pod's owner: why it waits, or why its annotations were not understood.
        public var warnings: [String] = []
        /// The decision read the locality view or the controller's liveness, which change without
        /// the cluster cache changing: an answer built on them must not be replayed for a later review.
        public var readsLiveState = false
    }

    /// Decides for `pod` (as admitted so far) with `datasets` resolved, at `now`.
    public static func decide(
        pod: JSONValue, labels: StringMembers, annotations: StringMembers, namespaceLabels: [String: String],
        datasets: [ResolvedDataset], policy: WarmPolicy, locality: LocalityIndex.Snapshot?, now: Date
    ) -> Decision {
        guard policy.optedIn(labels: labels, namespaceLabels: namespaceLabels) else { return Decision() }
        // A pod bound to a node is never scheduled, and the API server refuses gates on it; a pod
        // already gated (the webhook run again on its own output) keeps its gate as it is.
        let gates = pod["spec"]?["schedulingGates"]?.arrayValue ?? []
        if pod["spec"]?["nodeName"]?.stringValue?.isEmpty == false || gates.contains(where: { $0["name"]?.stringValue == Keys.warmGate }) {
            return Decision()
        }
        let warmable = datasets.filter { if case .fuse = $0.access { return true } else { return false } }
        guard !warmable.isEmpty else { return Decision() }
        guard policy.controllerAlive else {
            return Decision(
                warnings: [
                    "Locus's warm-up controller has no live leader (its Lease is not renewed), so the pod is admitted without "
                        + "waiting for warm data"
                ], readsLiveState: true)
        }
        let terms = policy.terms(annotations: annotations)
        var decision = Decision(warnings: terms.problems.map { "Locus's warm-up: \($0)" }, readsLiveState: true)
        guard let locality else { return decision }
        decision.warmth = warmable.map {
            Warmth.of($0.ref, fluidDataset: $0.dataset, threshold: terms.threshold, snapshot: locality)
        }
        let cold = decision.warmth.filter { !$0.isWarm }
        guard !cold.isEmpty else { return decision }
        let wait = WarmWait(
            datasets: cold.map(\.dataset), threshold: terms.threshold, deadline: now.addingTimeInterval(terms.deadlineSeconds))
        decision.wait = wait
        decision.warnings.append(
            "Locus holds the pod (scheduling gate \(Keys.warmGate)) while it warms "
                + cold.map(\.description).joined(separator: "; ")
                + "; it is scheduled when the data is warm, the warm-up ends, or at \(KubeTime.time(wait.deadline)) at the latest")
        return decision
    }

    /// `pod` with the gate, the controller's label and the annotation of `wait`.
    static func gated(_ pod: JSONValue, _ wait: WarmWait) -> JSONValue {
        var pod = pod
        var spec = pod["spec"]?.objectValue ?? [:]
        spec["schedulingGates"] = .array((spec["schedulingGates"]?.arrayValue ?? []) + [["name": .string(Keys.warmGate)]])
        pod["spec"] = .object(spec)
        var meta = pod["metadata"]?.objectValue ?? [:]
        var labels = meta["labels"]?.objectValue ?? [:]
        labels[Keys.warmGated] = "true"
        meta["labels"] = .object(labels)
        var annotations = meta["annotations"]?.objectValue ?? [:]
        annotations[Keys.warmWaiting] = .string(wait.text)
        meta["annotations"] = .object(annotations)
        pod["metadata"] = .object(meta)
        return pod
    }
}
