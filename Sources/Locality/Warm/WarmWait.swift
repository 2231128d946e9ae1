public import Foundation
import KubeClient

/// What a gated pod waits for, as written in its `locus.dev/warm-waiting` annotation at admission
/// and read back by the warm-up controller (of any replica, after any restart):
/// `datasets=ns/a,ns/b; threshold=90%; deadline=2026-12-06T13:45:00Z`.
public struct WarmWait: Sendable, Equatable {
    public var datasets: [DatasetRef]
    public var threshold: WarmThreshold
    /// When the gate is lifted whatever the cache holds.
    public var deadline: Date

    public init(datasets: [DatasetRef], threshold: WarmThreshold, deadline: Date) {
        self.datasets = datasets
        self.threshold = threshold
        self.deadline = deadline
    }

    public var text: String {
        "datasets=\(datasets.map(\.description).joined(separator: ",")); threshold=\(thresholdText); "
            + "deadline=\(KubeTime.time(deadline))"
    }

    /// The threshold exactly (a share to the basis point, bytes to the byte).
    var thresholdText: String {
        switch threshold {
        case .share(let s): "\(WarmThreshold.percent(s))%"
        case .bytes(let b): "\(b)"
        }
    }

    /// Reads the annotation back; nil when it is not one Locus wrote.
    public init?(text: String) {
        var fields: [String: String] = [:]
        for part in text.split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { return nil }
            fields[kv[0].trimmingCharacters(in: .whitespaces)] = kv[1].trimmingCharacters(in: .whitespaces)
        }
        guard let list = fields["datasets"], let t = fields["threshold"].flatMap(WarmThreshold.init),
            let deadline = fields["deadline"].flatMap(KubeTime.date)
        else { return nil }
        let refs = list.split(separator: ",").map { DatasetRef(parsing: $0, defaultNamespace: "") }
        guard !refs.isEmpty, refs.allSatisfy({ $0 != nil }) else { return nil }
        self.init(datasets: refs.compactMap { $0 }, threshold: t, deadline: deadline)
    }

}
