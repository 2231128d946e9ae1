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

/// What one source knows about one dataset on one node.
public struct Observation: Sendable, Hashable {
    public var bytes: TierBytes
    /// The engine holds a shared-memory copy on the node (readers there need no copy).
    public var sharedMemory: Bool
    /// When the figure was last confirmed.
    public var confirmedAt: Date
    /// The source that reported it (`fluid-status`, `vineyard`, `juicefs`, `cluster-state`).
    public var source: String
    /// True when the per-node figure is derived (e.g. a dataset total spread over its cache nodes), not reported per node.
    public var estimated: Bool

    public init(bytes: TierBytes, sharedMemory: Bool = false, confirmedAt: Date, source: String, estimated: Bool = false) {
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

    /// An immutable view for one request.
    public struct Snapshot: Sendable {
        let sources: [String: Picture]
        public let ttl: TimeInterval
        public let now: Date

        /// The freshest trustworthy observation: exact before estimated, then the newest; nil when all are stale.
        public func observation(node: String, dataset: DatasetRef) -> Observation? {
            var best: Observation?
            for picture in sources.values {
                guard let o = picture[node]?[dataset], now.timeIntervalSince(o.confirmedAt) <= ttl else { continue }
                if let b = best {
                    if (b.estimated && !o.estimated) || (b.estimated == o.estimated && o.confirmedAt > b.confirmedAt) { best = o }
                } else {
                    best = o
                }
            }
            return best
        }

        /// The oldest confirmation per source (for freshness metrics); nil for an empty source.
        public var oldestConfirmation: [String: Date] {
            sources.compactMapValues { picture in picture.values.flatMap(\.values).map(\.confirmedAt).min() }
        }
    }

    private let sources = Mutex<[String: Picture]>([:])
    public let ttl: TimeInterval

    public init(ttl: TimeInterval = 120) { self.ttl = ttl }

    /// Replaces everything `source` said before with `picture`.
    public func replace(source: String, with picture: Picture) {
        sources.withLock { $0[source] = picture }
    }

    public func snapshot(now: Date = Date()) -> Snapshot {
        Snapshot(sources: sources.withLock { $0 }, ttl: ttl, now: now)
    }
}
