import Foundation
import KubeClient

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
        let tiers = levels.compactMap { level in Tier(mediumType: level.mediumtype ?? "").map { ($0, level.quota.flatMap(ByteQuantity.parse)) } }
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
        unorderedNodeNames(labelledTrue: Keys.fluidCacheNodeLabel(
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

/// Per-node cache bytes written in a cluster-state file (`cache:`), for running with no cluster.
public struct StaticCacheEntry: Decodable, Sendable {
    public var node: String
    /// `namespace/name`.
    public var dataset: String
    public var memory: String?
    public var ssd: String?
    public var hdd: String?
    public var sharedMemory: Bool?

    /// The entries as a picture; entries naming malformed datasets or byte amounts are errors.
    public static func picture(_ entries: [StaticCacheEntry], now: Date) throws -> LocalityIndex.Picture {
        var picture: LocalityIndex.Picture = [:]
        for (i, e) in entries.enumerated() {
            guard let ref = DatasetRef(parsing: e.dataset, defaultNamespace: ""), !ref.namespace.isEmpty else {
                throw ClusterStateError("cache[\(i)]: dataset \"\(e.dataset)\" must be namespace/name")
            }
            var bytes = TierBytes()
            for (tier, text) in [(Tier.memory, e.memory), (.ssd, e.ssd), (.hdd, e.hdd)] {
                guard let text else { continue }
                guard let b = ByteQuantity.parse(text) else { throw ClusterStateError("cache[\(i)]: \(tier.rawValue) \"\(text)\" is not a byte amount") }
                bytes[tier] = b
            }
            picture[e.node, default: [:]][ref] = Observation(
                bytes: bytes, sharedMemory: e.sharedMemory ?? false, confirmedAt: now, source: .clusterState)
        }
        return picture
    }
}

/// Keeps a `LocalityIndex` fed: Fluid's status from the informer caches, the engines' own
/// per-node figures (each engine plugin's `observe`), and the static entries of a cluster-state
/// file. Runs off the request path.
public struct LocalityFeeds: Sendable {
    public let cache: ClusterCache
    public let index: LocalityIndex
    /// How engines are asked; nil leaves them unasked (offline modes: the cluster-state file stands in for them).
    public var probe: EngineProbe?
    /// Datasets asked at once.
    public var concurrency = 16
    /// Called after each engine poll with what the engines said (logging, metrics).
    public var onReports: (@Sendable ([DatasetRef: EngineReport]) -> Void)?

    public init(cache: ClusterCache, index: LocalityIndex, staticEntries: [StaticCacheEntry] = []) {
        self.cache = cache
        self.index = index
        // A cluster-state file's entries never go stale (see LocalityIndex.Snapshot.fresh): set once.
        if let picture = try? StaticCacheEntry.picture(staticEntries, now: Date()), !picture.isEmpty {
            index.replace(source: .clusterState, with: picture)
        }
    }

    /// One refresh: Fluid's status is read again from the informer caches.
    public func refresh(now: Date = Date()) {
        index.replace(source: .fluidStatus, with: FluidStatusSource.picture(cache: cache, now: now))
    }

    /// Asks every Bound dataset's engine where its bytes are, and replaces each engine source's
    /// figures with the answers. A node the engine did not answer for this time keeps its last
    /// figure with its old confirmation time, so it decays to unknown at the TTL rather than on one
    /// missed poll; figures of datasets that are gone, or older than the TTL, are dropped.
    @discardableResult
    public func pollEngines() async -> [DatasetRef: EngineReport] {
        guard let probe else { return [:] }
        let work = cache.boundDatasets().compactMap { ref, dataset, kind, runtime -> (DatasetRef, Dataset, FluidRuntime, any EnginePlugin)? in
            guard let runtime, let plugin = EnginePlugins.plugin(for: kind) else { return nil }
            return (ref, dataset, runtime, plugin)
        }
        let cache = self.cache
        var reports: [DatasetRef: EngineReport] = [:]
        await withTaskGroup(of: (DatasetRef, EngineReport?).self) { group in
            var next = 0
            func start() {
                guard next < work.count else { return }
                let (ref, dataset, runtime, plugin) = work[next]
                next += 1
                group.addTask { (ref, await plugin.observe(dataset: dataset, runtime: runtime, cache: cache, probe: probe)) }
            }
            for _ in 0..<max(1, concurrency) { start() }
            while let (ref, report) = await group.next() {
                if let report { reports[ref] = report }
                start()
            }
        }
        var pictures: [LocalitySource: LocalityIndex.Picture] = [:]
        let asked = Set(work.map(\.0))
        let now = probe.now()
        for source in LocalitySource.engines {
            var picture: LocalityIndex.Picture = [:]
            for (node, datasets) in index.picture(of: source) {
                for (ref, o) in datasets where asked.contains(ref) && now.timeIntervalSince(o.confirmedAt) <= index.ttl {
                    if let workers = reports[ref]?.workerNodes, !workers.contains(node) { continue }
                    picture[node, default: [:]][ref] = o
                }
            }
            pictures[source] = picture
        }
        for (ref, report) in reports {
            for (node, o) in report.nodes { pictures[report.source, default: [:]][node, default: [:]][ref] = o }
        }
        for (source, picture) in pictures { index.replace(source: source, with: picture) }
        onReports?(reports)
        return reports
    }

    /// Refreshes and asks the engines every `interval` until cancelled; `afterFirstRefresh` runs
    /// once the first refresh is in the index (before the first, slower, engine poll). With
    /// `alreadyRefreshed` the caller has just refreshed, so the first round only polls.
    public func run(interval: Duration, alreadyRefreshed: Bool = false, afterFirstRefresh: @Sendable () -> Void = {}) async {
        var first = true
        while !Task.isCancelled {
            if !(first && alreadyRefreshed) { refresh() }
            if first {
                afterFirstRefresh()
                first = false
            }
            await pollEngines()
            try? await Task.sleep(for: interval)
        }
    }
}
