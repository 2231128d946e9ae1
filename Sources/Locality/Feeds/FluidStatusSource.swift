public import Foundation
public import KubeClient

/// Locality from Fluid's own status, for every engine kind: a dataset's cached total
/// (`status.cacheStates.cached`) and the nodes Fluid labels as holding its cache
/// (`fluid.io/s-<namespace>-<name>`).
///
/// Fluid reports only the dataset's total, so the per-node figure is an explicit estimate: the
/// total split evenly over the labelled nodes, filled into the runtime's tiers in order up to each
/// level's per-worker quota (the rest in the last level). Engines that report per node
/// (Vineyard, JuiceFS) replace this estimate where they answer.
public enum FluidStatusSource {

    public static func picture(cache: ClusterCache, now: Date) -> LocalityIndex.Picture {
        var picture: LocalityIndex.Picture = [:]
        for (ref, dataset, kind, runtime) in cache.boundDatasets() {
            let holders = cache.unorderedCacheNodes(of: dataset)
            guard !holders.isEmpty else { continue }
            let cached = dataset.status?.cacheStates?["cached"].flatMap(ByteQuantity.parse) ?? 0
            let share = cached / Int64(holders.count)
            let bytes = spread(share, over: runtime?.spec?.tieredstore?.levels ?? [], kind: kind)
            for node in holders {
                picture[node, default: [:]][ref] = Observation(
                    bytes: bytes, sharedMemory: kind == .vineyard, confirmedAt: now, source: .fluidStatus, estimated: true)
            }
        }
        return picture
    }

    /// Fills `bytes` into the tiers in the runtime's order, each up to its quota.
    static func spread(_ bytes: Int64, over levels: [FluidRuntime.Level], kind: FluidRuntimeKind) -> TierBytes {
        var out = TierBytes()
        let tiers = levels.compactMap { level in
            Tier(mediumType: level.mediumtype ?? "").map { ($0, level.quota.flatMap(ByteQuantity.parse)) }
        }
        guard !tiers.isEmpty else {
            out[kind == .vineyard ? .memory : .ssd] = bytes
            return out
        }
        var left = bytes
        for (i, (tier, quota)) in tiers.enumerated() {
            let take = i == tiers.count - 1 ? left : min(left, quota ?? left)
            out[tier] += take
            left -= take
            if left <= 0 { break }
        }
        return out
    }
}

extension ClusterCache {
    /// The nodes Fluid labels as holding `dataset`'s cache (`fluid.io/s-<namespace>-<name>: "true"`), sorted.
    public func cacheNodes(of dataset: Dataset) -> [String] {
        unorderedCacheNodes(of: dataset).sorted()
    }

    /// The same nodes in no particular order.
    public func unorderedCacheNodes(of dataset: Dataset) -> [String] {
        unorderedNodeNames(
            labelledTrue: Keys.fluidCacheNodeLabel(
                namespace: dataset.metadata.namespace ?? "", name: dataset.metadata.name ?? "", uid: dataset.metadata.uid))
    }

    /// Every Bound dataset served by a known engine kind, with its runtime (nil when that object is missing).
    func boundDatasets() -> [(ref: DatasetRef, dataset: Dataset, kind: FluidRuntimeKind, runtime: FluidRuntime?)] {
        datasets.list().compactMap { dataset in
            guard dataset.status?.phase == "Bound",
                let ns = dataset.metadata.namespace, let name = dataset.metadata.name,
                let runtimeRef = dataset.status?.runtimes?.first,
                let kind = FluidRuntimeKind(engineType: runtimeRef.type ?? "")
            else { return nil }
            let runtime = runtimes.get(namespace: runtimeRef.namespace ?? ns, name: runtimeRef.name ?? name)
            return (DatasetRef(namespace: ns, name: name), dataset, kind, runtime)
        }
    }
}
