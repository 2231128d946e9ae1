public import Foundation
public import KubeClient

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
        let work = cache.boundDatasets().compactMap {
            ref, dataset, kind, runtime -> (DatasetRef, Dataset, FluidRuntime, any EnginePlugin)? in
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
