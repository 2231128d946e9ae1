import Foundation
public import KubeClient
import Synchronization

/// Where the cluster objects come from: informers against a real API server, or a static state.
public enum ClusterBackend: Sendable {
    case live(LiveCluster)
    case fixed(ClusterCache)

    public var cache: ClusterCache {
        switch self {
        case .live(let l): l.cache
        case .fixed(let c): c
        }
    }

    public var isFixed: Bool {
        if case .fixed = self { return true }
        return false
    }

    /// Ready once every informer has its first list (a static state is always ready).
    public var isReady: Bool {
        switch self {
        case .live(let l): l.hasSynced
        case .fixed: true
        }
    }

    /// Resources whose informer lost contact with the API server, and for how long.
    public func staleResources() -> [(resource: String, seconds: Int, failure: String?)] {
        switch self {
        case .live(let l): l.staleResources()
        case .fixed: []
        }
    }

    /// Resources whose first list is not done, with the failure holding each up (nil: under way).
    public var unsynced: [(resource: String, failure: String?)] {
        switch self {
        case .live(let l): l.unsynced
        case .fixed: []
        }
    }
}
