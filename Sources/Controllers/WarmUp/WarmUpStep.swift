public import Foundation
public import KubeClient
public import Locality

/// What the warm-up controller does next for one gated pod: pure over the pod, the DataLoads,
/// what the locality view says, and the time.
public enum WarmUpStep: Sendable, Equatable {
    /// Lift the gate, saying why.
    case lift(LiftReason, String)
    /// Start a warm-up (DataLoad) for each of these datasets, which have none running; then wait.
    case start([DatasetRef])
    case wait

    /// Where one dataset the pod waits for stands.
    public enum Progress: Sendable, Equatable {
        /// The node the extender would pick holds the threshold.
        case warm(String)
        /// A warm-up of it completed after the pod was gated.
        case loaded(String)
        case failed(String)
        /// A warm-up is pending or running.
        case warming(String)
        /// Nothing is warming it.
        case idle
        /// The dataset is gone.
        case gone
    }

    /// Where `dataset` stands for a pod gated at `gatedAt`, given every DataLoad and `warm`, the
    /// locality view's verdict (a sentence when warm on the picked node, nil otherwise).
    public static func progress(
        of dataset: DatasetRef, exists: Bool, gatedAt: Date?, dataLoads: [DataLoad], warm: String?
    ) -> Progress {
        guard exists else { return .gone }
        if let warm { return .warm(warm) }
        let own = dataLoads.filter { $0.datasetKey.map { $0.namespace == dataset.namespace && $0.name == dataset.name } ?? false }
        if let running = own.first(where: \.isActive) { return .warming(running.metadata.name ?? "") }
        // The latest warm-up that ended after the pod was gated (the timestamps are whole seconds).
        let ended = own.compactMap { load -> (Date, DataLoad)? in
            guard let end = finishedAt(load) else { return nil }
            if let gatedAt, end < gatedAt.addingTimeInterval(-1) { return nil }
            return (end, load)
        }.max { $0.0 < $1.0 }?.1
        guard let ended else { return .idle }
        let name = ended.metadata.name ?? ""
        if ended.status?.phase == "Failed" {
            let why = ended.status?.conditions?.last(where: { $0.type == "Failed" })?.message ?? "no reason given"
            return .failed("DataLoad \(name) failed: \(why)")
        }
        return .loaded("DataLoad \(name) completed\(ended.status?.duration.map { " in \($0)" } ?? "")")
    }

    /// When a DataLoad ended: its `Complete` or `Failed` condition's transition time (else its creation).
    static func finishedAt(_ load: DataLoad) -> Date? {
        guard let phase = load.status?.phase, phase == "Complete" || phase == "Failed" else { return nil }
        let condition = load.status?.conditions?.last { $0.type == phase }
        return (condition?.lastTransitionTime ?? load.metadata.creationTimestamp).flatMap(KubeTime.date)
    }

    /// The next step for a pod waiting for `wait`, with each dataset's progress, at `now`.
    public static func decide(wait: WarmWait, progress: [(DatasetRef, Progress)], now: Date) -> WarmUpStep {
        if let gone = progress.first(where: { $0.1 == .gone }) {
            return .lift(.abandoned, "dataset \(gone.0) is gone")
        }
        if let failure = progress.compactMap({ p -> String? in
            if case .failed(let why) = p.1 { return "\(p.0): \(why)" } else { return nil }
        })
        .first {
            return .lift(.failed, "the warm-up failed, so the pod starts with the cache as it is: \(failure)")
        }
        let done = progress.compactMap { p -> (dataset: DatasetRef, warm: Bool, text: String)? in
            switch p.1 {
            case .warm(let t): return (p.0, true, t)
            case .loaded(let t): return (p.0, false, "\(p.0): \(t)")
            default: return nil
            }
        }
        if done.count == progress.count {
            let reason: LiftReason = done.allSatisfy(\.warm) ? .warm : .loaded
            return .lift(reason, done.map(\.text).joined(separator: "; "))
        }
        if now >= wait.deadline {
            let waiting = progress.filter { p in !done.contains { $0.dataset == p.0 } }.map(\.0.description)
            return .lift(
                .deadline,
                "the deadline \(KubeTime.time(wait.deadline)) passed with \(waiting.joined(separator: ", ")) not warm: the pod starts cold"
            )
        }
        let idle = progress.filter { $0.1 == .idle }.map(\.0)
        return idle.isEmpty ? .wait : .start(idle)
    }
}
