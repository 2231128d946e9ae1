import Foundation
import Synchronization

/// Cache tiers, fastest first.
public enum Tier: String, Sendable, CaseIterable, Codable {
    case memory, ssd, hdd

    /// Fluid's `mediumtype` (`MEM`, `SSD`, `HDD`).
    public init?(mediumType: String) {
        switch mediumType.uppercased() {
        case "MEM", "MEMORY": self = .memory
        case "SSD", "NVME": self = .ssd
        case "HDD", "DISK": self = .hdd
        default: return nil
        }
    }
}

/// Cached bytes of one dataset on one node, per tier.
public struct TierBytes: Sendable, Hashable {
    public var memory: Int64 = 0
    public var ssd: Int64 = 0
    public var hdd: Int64 = 0

    public init(memory: Int64 = 0, ssd: Int64 = 0, hdd: Int64 = 0) {
        self.memory = memory
        self.ssd = ssd
        self.hdd = hdd
    }

    public var total: Int64 { memory + ssd + hdd }

    public subscript(tier: Tier) -> Int64 {
        get {
            switch tier {
            case .memory: memory
            case .ssd: ssd
            case .hdd: hdd
            }
        }
        set {
            switch tier {
            case .memory: memory = newValue
            case .ssd: ssd = newValue
            case .hdd: hdd = newValue
            }
        }
    }
}

/// Where a locality figure comes from.
public enum LocalitySource: String, Sendable, CaseIterable, Hashable {
    /// Fluid's Dataset status spread over its cache nodes (an estimate).
    case fluidStatus = "fluid-status"
    /// Per-node entries of a cluster-state file.
    case clusterState = "cluster-state"
    case vineyard
    case juicefs

    /// The sources that are engines asked over the network.
    public static let engines: [LocalitySource] = [.vineyard, .juicefs]
}

/// What one source knows about one dataset on one node.
public struct Observation: Sendable, Hashable {
    public var bytes: TierBytes
    /// The engine holds a shared-memory copy on the node (readers there need no copy).
    public var sharedMemory: Bool
    /// When the figure was last confirmed.
    public var confirmedAt: Date
    public var source: LocalitySource
    /// True when the per-node figure is derived (e.g. a dataset total spread over its cache nodes), not reported per node.
    public var estimated: Bool

    public init(bytes: TierBytes, sharedMemory: Bool = false, confirmedAt: Date, source: LocalitySource, estimated: Bool = false) {
        self.bytes = bytes
        self.sharedMemory = sharedMemory
        self.confirmedAt = confirmedAt
        self.source = source
        self.estimated = estimated
    }
}

/// node → dataset → what is cached there, from every source, with freshness.
///
/// Writers replace one source's whole picture at a time; readers take one immutable snapshot
/// (a single short lock to copy a reference) and then read without locking, so a refresh of
/// thousands of nodes never blocks a request. A figure older than `ttl` reads as unknown.
public final class LocalityIndex: Sendable {
    public typealias Picture = [String: [DatasetRef: Observation]]

    /// One source's figures, stored dataset-major with nodes interned to numbers: a request for
    /// a pod's few datasets over thousands of nodes hashes each node name once, then indexes arrays.
    typealias Columns = [DatasetRef: [Observation?]]

    struct State: Sendable {
        /// Every node any source ever named → its column position. Append-only.
        var nodeIDs: [String: Int] = [:]
        var sources: [LocalitySource: Columns] = [:]
    }

    /// An immutable view for one request.
    public struct Snapshot: Sendable {
        let state: State
        public let ttl: TimeInterval
        public let now: Date

        /// Within the TTL; a cluster-state file's entries stay true as long as Locus serves that file.
        @inline(__always) func fresh(_ o: Observation) -> Bool {
            o.source == .clusterState || now.timeIntervalSince(o.confirmedAt) <= ttl
        }

        static func better(_ o: Observation, than b: Observation?) -> Bool {
            guard let b else { return true }
            return (b.estimated && !o.estimated) || (b.estimated == o.estimated && o.confirmedAt > b.confirmedAt)
        }

        /// The freshest trustworthy observation: exact before estimated, then the newest; nil when all are stale.
        public func observation(node: String, dataset: DatasetRef) -> Observation? {
            guard let id = state.nodeIDs[node] else { return nil }
            var best: Observation?
            for columns in state.sources.values {
                guard let column = columns[dataset], id < column.count, let o = column[id], fresh(o) else { continue }
                if Self.better(o, than: best) { best = o }
            }
            return best
        }

        /// The columns of `datasets`, for `observations(node:in:into:)`.
        public func columns(for datasets: [DatasetRef]) -> DatasetColumns {
            var flat: [DatasetColumns.Entry] = []
            for (i, ref) in datasets.enumerated() {
                for columns in state.sources.values { if let c = columns[ref] { flat.append(.init(dataset: i, column: c)) } }
            }
            return DatasetColumns(entries: flat)
        }

        /// The best fresh observation of each of the columns' datasets on `node`, into a caller's
        /// buffer, so a loop over thousands of nodes allocates nothing.
        public func observations(node: String, in columns: DatasetColumns, into best: inout [Observation?]) {
            for i in best.indices { best[i] = nil }
            guard let id = state.nodeIDs[node] else { return }
            for k in columns.entries.indices where id < columns.entries[k].column.count {
                guard let o = columns.entries[k].column[id], fresh(o) else { continue }
                let i = columns.entries[k].dataset
                if Self.better(o, than: best[i]) { best[i] = o }
            }
        }

        /// The oldest confirmation per source (for freshness metrics); nil for an empty source.
        public var oldestConfirmation: [LocalitySource: Date] {
            state.sources.compactMapValues { columns in columns.values.flatMap { $0.compactMap { $0?.confirmedAt } }.min() }
        }
    }

    /// The node columns of a request's datasets, from every source.
    public struct DatasetColumns: Sendable {
        struct Entry: Sendable {
            let dataset: Int
            let column: [Observation?]
        }
        let entries: [Entry]
    }

    private let state = Mutex(State())
    /// Serialises writers, so the interning table read at the start of `replace` is still current
    /// when the new columns are swapped in. Readers never take it.
    private let writer = Mutex(())
    public let ttl: TimeInterval

    public init(ttl: TimeInterval = 120) { self.ttl = ttl }

    /// Replaces everything `source` said before with `picture` (node → dataset → observation).
    /// The columns are built outside the state lock, which is held only to swap them in.
    public func replace(source: LocalitySource, with picture: Picture) {
        writer.withLock { _ in
            var ids = state.withLock { $0.nodeIDs }
            for node in picture.keys where ids[node] == nil { ids[node] = ids.count }
            var columns: Columns = [:]
            for (node, datasets) in picture {
                let id = ids[node]!
                for (ref, o) in datasets {
                    columns[ref, default: [Observation?](repeating: nil, count: ids.count)][id] = o
                }
            }
            state.withLock { s in
                s.nodeIDs = ids
                s.sources[source] = columns
            }
        }
    }

    /// What `source` said last, as a picture (node → dataset → observation), stale figures included.
    public func picture(of source: LocalitySource) -> Picture {
        let s = state.withLock { $0 }
        guard let columns = s.sources[source] else { return [:] }
        var names = [String](repeating: "", count: s.nodeIDs.count)
        for (node, id) in s.nodeIDs { names[id] = node }
        var picture: Picture = [:]
        for (ref, column) in columns {
            for (id, o) in column.enumerated() { if let o { picture[names[id], default: [:]][ref] = o } }
        }
        return picture
    }

    public func snapshot(now: Date = Date()) -> Snapshot {
        Snapshot(state: state.withLock { $0 }, ttl: ttl, now: now)
    }
}
