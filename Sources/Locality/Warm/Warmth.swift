import Foundation
public import KubeClient

/// How warm one dataset is: the node holding most of it, against what the threshold asks.
public struct Warmth: Sendable, CustomStringConvertible {
    public var dataset: DatasetRef
    /// The dataset's size, from Fluid's `status.ufsTotal`; nil when Fluid has not measured it.
    public var total: Int64?
    /// Bytes one node must hold; nil when the threshold is a share of an unknown size.
    public var needed: Int64?
    public var threshold: WarmThreshold
    /// The node with the most fresh bytes of the dataset, and those bytes.
    public var best: (node: String, bytes: Int64)?

    /// Warm: some node holds what the threshold asks.
    public var isWarm: Bool {
        guard let needed, let best else { return false }
        return best.bytes >= needed
    }

    /// The bytes of the dataset that `node` holds, by the same reading.
    public static func bytes(of dataset: DatasetRef, on node: String, in snapshot: LocalityIndex.Snapshot) -> Int64 {
        snapshot.observation(node: node, dataset: dataset)?.bytes.total ?? 0
    }

    /// `dataset`'s warmth in `snapshot`.
    public static func of(
        _ dataset: DatasetRef, fluidDataset: Dataset?, threshold: WarmThreshold, snapshot: LocalityIndex.Snapshot
    ) -> Warmth {
        let total = fluidDataset?.status?.ufsTotal.flatMap(ByteQuantity.parse)
        let best = snapshot.holders(of: dataset).map { (node: $0.node, bytes: $0.observation.bytes.total) }
            .max { ($0.bytes, $1.node) < ($1.bytes, $0.node) }
        return Warmth(
            dataset: dataset, total: total, needed: threshold.bytes(ofTotal: total.map { max($0, 1) }), threshold: threshold,
            best: best.flatMap { $0.bytes > 0 ? $0 : nil })
    }

    /// `default/train: 12.0 MiB on node-1 of 64.0 MiB needed (90% of 71.1 MiB)`.
    public var description: String {
        let held = best.map { "\(ByteQuantity.format($0.bytes)) on \($0.node)" } ?? "nothing cached"
        let asked: String
        switch (needed, threshold, total) {
        case (let n?, .share, let t?): asked = "\(ByteQuantity.format(n)) needed (\(threshold) of \(ByteQuantity.format(t)))"
        case (let n?, _, _): asked = "\(ByteQuantity.format(n)) needed"
        case (nil, _, _):
            asked = "\(threshold) needed of a size Fluid has not reported (status.ufsTotal), so only a finished warm-up counts"
        }
        return "\(dataset): \(held), \(asked)"
    }
}
