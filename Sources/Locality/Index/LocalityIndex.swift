public import Foundation
import Synchronization

/// node → dataset → what is cached there, from every source, with freshness.
///
/// Writers replace one source's whole picture at a time; readers take one immutable snapshot
/// (a single short lock to copy a reference) and then read without locking, so a refresh of
/// thousands of nodes never blocks a request. A figure older than `ttl` reads as unknown.
public final class LocalityIndex: Sendable {
    public typealias Picture = [String: [DatasetRef: Observation]]

    /// One observation in a node's row: which dataset (interned) and what a source said.
    struct Entry: Sendable {
        let dataset: Int32
        let observation: Observation
    }

    /// One source's figures laid out for the request path: one row per node, all rows in one
    /// buffer (row `id` is `entries[rowStart[id]..<rowStart[id + 1]]`; nodes numbered after the
    /// rows were built have none), in memory of its own so a request walks it through plain
    /// pointers. A request over thousands of nodes looks each node name up once and then reads
    /// one short, contiguous row per node and source. Each source's rows are rebuilt only when
    /// that source is replaced. Immutable once built.
    final class Rows: @unchecked Sendable {
        let rowStart: UnsafeMutableBufferPointer<Int32>
        let entries: UnsafeMutableBufferPointer<Entry>

        init(rowStart: [Int32], entries: [Entry]) {
            self.rowStart = .allocate(capacity: rowStart.count)
            _ = self.rowStart.initialize(from: rowStart)
            self.entries = .allocate(capacity: max(1, entries.count))
            _ = self.entries.initialize(from: entries)
        }

        deinit {
            rowStart.deallocate()
            entries.deallocate()
        }
    }

    /// Every source's figures and rows.
    struct State: Sendable {
        /// Every node any source ever named, by row number. Append-only; new nodes are numbered in
        /// name order, the order the API server lists them.
        var nodeNames: [String] = []
        /// Node name → row number, rebuilt when nodes are added.
        var nodeTable = NodeNameTable(names: [])
        /// Every dataset any source ever named → its number. Append-only.
        var datasetIDs: [DatasetRef: Int32] = [:]
        var pictures: [LocalitySource: Picture] = [:]
        /// The rows of each source that has figures.
        var rows: [LocalitySource: Rows] = [:]
        /// `rows`' values in `LocalitySource.allCases` order, for the request path.
        var active: [Rows] = []
    }

    /// An immutable view for one request.
    public struct Snapshot: Sendable {
        let state: State
        public let ttl: TimeInterval
        public let now: Date

        /// The freshest trustworthy observation: exact before estimated, then the newest; nil when all are stale.
        public func observation(node: String, dataset: DatasetRef) -> Observation? {
            var best: [Observation?] = [nil]
            observations(node: node, of: numbered([dataset]), into: &best)
            return best[0]
        }

        /// The datasets of a request, numbered for `observations(node:of:into:)`.
        public func numbered(_ datasets: [DatasetRef]) -> NumberedDatasets {
            NumberedDatasets(ids: datasets.map { state.datasetIDs[$0] ?? -1 })
        }

        /// The best fresh observation of each of `datasets` on `node`, into a caller's buffer.
        /// A loop over many nodes reads faster through `reading(_:)`.
        public func observations(node: String, of datasets: NumberedDatasets, into best: inout [Observation?]) {
            reading { $0.observations(node: node, of: datasets, into: &best) }
        }

        /// Runs `body` with a reader of this snapshot: lookups through it take no reference
        /// counts and allocate nothing, for loops over thousands of nodes.
        public func reading<R>(_ body: (Reader) throws -> R) rethrows -> R {
            try withExtendedLifetime(state) {
                try body(
                    Reader(
                        table: state.nodeTable,
                        sources: state.active.map {
                            Reader.Source(rowStart: UnsafeBufferPointer($0.rowStart), entries: UnsafeBufferPointer($0.entries))
                        },
                        ttl: ttl, now: now))
            }
        }

        /// Every node with a fresh figure for `dataset`, with the best figure there (as
        /// `observation(node:dataset:)` chooses), in node name order.
        public func holders(of dataset: DatasetRef) -> [(node: String, observation: Observation)] {
            var best: [String: Observation] = [:]
            for picture in state.pictures.values {
                for (node, row) in picture {
                    guard let o = row[dataset], o.source == .clusterState || now.timeIntervalSince(o.confirmedAt) <= ttl,
                        Reader.better(o, than: best[node])
                    else { continue }
                    best[node] = o
                }
            }
            return best.sorted { $0.key < $1.key }.map { (node: $0.key, observation: $0.value) }
        }

        /// The oldest confirmation per source (for freshness metrics); nil for an empty source.
        public var oldestConfirmation: [LocalitySource: Date] {
            state.pictures.compactMapValues { picture in picture.values.flatMap { $0.values.map(\.confirmedAt) }.min() }
        }
    }

    /// A snapshot's rows for the length of one `Snapshot.reading(_:)` call.
    public struct Reader {
        struct Source {
            let rowStart: UnsafeBufferPointer<Int32>
            let entries: UnsafeBufferPointer<Entry>
        }
        let table: NodeNameTable
        let sources: [Source]
        let ttl: TimeInterval
        let now: Date

        /// Within the TTL; a cluster-state file's entries stay true as long as Locus serves that file.
        @inline(__always) func fresh(_ o: Observation) -> Bool {
            o.source == .clusterState || now.timeIntervalSince(o.confirmedAt) <= ttl
        }

        @inline(__always) static func better(_ o: Observation, than b: Observation?) -> Bool {
            guard let b else { return true }
            return (b.estimated && !o.estimated) || (b.estimated == o.estimated && o.confirmedAt > b.confirmedAt)
        }

        /// The best fresh observation of each of `datasets` on `node`, into a caller's buffer, so a
        /// loop over thousands of nodes allocates nothing.
        public func observations(node: String, of datasets: NumberedDatasets, into best: inout [Observation?]) {
            var node = node
            node.withUTF8 { observations(nodeBytes: UnsafeRawBufferPointer($0), of: datasets, into: &best) }
        }

        /// The same for a node named by its UTF-8 bytes.
        public func observations(nodeBytes node: UnsafeRawBufferPointer, of datasets: NumberedDatasets, into best: inout [Observation?]) {
            for i in best.indices { best[i] = nil }
            guard let id = table.id(of: node) else { return }
            let ids = datasets.ids
            for source in sources where id + 1 < source.rowStart.count {
                for k in Int(source.rowStart[id])..<Int(source.rowStart[id + 1]) {
                    let e = source.entries[k]
                    for i in ids.indices where ids[i] == e.dataset {
                        guard fresh(e.observation) else { break }
                        if Self.better(e.observation, than: best[i]) { best[i] = e.observation }
                    }
                }
            }
        }
    }

    /// A request's datasets, numbered as the index numbers them (-1: no source knows it).
    public struct NumberedDatasets: Sendable {
        let ids: [Int32]
    }

    private let state = Mutex(State())
    /// Serialises writers, so the state read at the start of `replace` is still current when the
    /// new one is swapped in. Readers never take it.
    private let writer = Mutex(())
    public let ttl: TimeInterval

    public init(ttl: TimeInterval = 120) { self.ttl = ttl }

    /// Replaces everything `source` said before with `picture` (node → dataset → observation).
    /// Only that source's rows are rebuilt, outside the state lock, which is held only to swap
    /// them in.
    public func replace(source: LocalitySource, with picture: Picture) {
        writer.withLock { _ in
            var s = state.withLock { $0 }
            s.pictures[source] = picture
            let added = picture.keys.filter { s.nodeTable.id(of: $0) == nil }.sorted()
            if !added.isEmpty {
                s.nodeNames += added
                s.nodeTable = NodeNameTable(names: s.nodeNames)
            }
            for datasets in picture.values {
                for ref in datasets.keys where s.datasetIDs[ref] == nil { s.datasetIDs[ref] = Int32(s.datasetIDs.count) }
            }
            s.rows[source] = picture.isEmpty ? nil : Self.rows(of: picture, nodes: s.nodeTable, datasetIDs: s.datasetIDs)
            s.active = LocalitySource.allCases.compactMap { s.rows[$0] }
            state.withLock { $0 = s }
        }
    }

    /// One source's rows: counted per node, then filled.
    static func rows(of picture: Picture, nodes: NodeNameTable, datasetIDs: [DatasetRef: Int32]) -> Rows {
        var ids: [(Int, [DatasetRef: Observation])] = []
        ids.reserveCapacity(picture.count)
        var last = -1
        for (node, datasets) in picture {
            let id = nodes.id(of: node)!
            ids.append((id, datasets))
            last = max(last, id)
        }
        var rowStart = [Int32](repeating: 0, count: last + 2)
        for (id, datasets) in ids { rowStart[id + 1] = Int32(datasets.count) }
        for i in 1..<rowStart.count { rowStart[i] += rowStart[i - 1] }
        var entries = [Entry](repeating: Entry(dataset: -1, observation: Self.placeholder), count: Int(rowStart.last!))
        for (id, datasets) in ids {
            var k = Int(rowStart[id])
            for (ref, o) in datasets {
                entries[k] = Entry(dataset: datasetIDs[ref]!, observation: o)
                k += 1
            }
        }
        return Rows(rowStart: rowStart, entries: entries)
    }

    static let placeholder = Observation(bytes: TierBytes(), confirmedAt: .distantPast, source: .fluidStatus)

    /// What `source` said last, as a picture (node → dataset → observation), stale figures included.
    public func picture(of source: LocalitySource) -> Picture {
        state.withLock { $0.pictures[source] } ?? [:]
    }

    public func snapshot(now: Date = Date()) -> Snapshot {
        Snapshot(state: state.withLock { $0 }, ttl: ttl, now: now)
    }
}
