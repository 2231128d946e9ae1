import Foundation
import Synchronization

/// The data of the ConfigMaps a decision names, read by name from the API server when first
/// asked and kept while the metadata informer reports the same resourceVersion. The cluster's
/// ConfigMaps are cached as metadata alone, so Locus holds the data of a handful of ConfigMaps
/// (a Vineyard runtime's RPC ConfigMap), not of every ConfigMap of the cluster.
///
/// At most `capacity` are kept; the one asked for longest ago makes room. A ConfigMap that
/// changes is read again at its next use; one that is deleted is forgotten.
public final class ConfigMapContents: Sendable {
    public typealias Fetch = @Sendable (_ namespace: String, _ name: String) async throws -> ConfigMap?

    private struct Kept {
        var resourceVersion: String?
        var data: [String: String]
        var lastUsed: UInt64
    }
    private struct State {
        var kept: [String: Kept] = [:]
        var clock: UInt64 = 0
    }
    private let state = Mutex(State())
    private let fetch: Fetch
    public let capacity: Int

    /// `fetch` reads one ConfigMap whole (nil when the API server has no such ConfigMap).
    public init(capacity: Int = 64, fetch: @escaping Fetch) {
        self.capacity = capacity
        self.fetch = fetch
    }

    /// The data of the ConfigMap whose cached metadata is `meta`: kept if read at this
    /// resourceVersion, else read now. nil when the API server no longer has it.
    public func data(of meta: ObjectMeta) async throws -> [String: String]? {
        let key = meta.key
        let version = meta.resourceVersion
        let hit: [String: String]? = state.withLock { s in
            guard var k = s.kept[key], k.resourceVersion == version else { return nil }
            s.clock += 1
            k.lastUsed = s.clock
            s.kept[key] = k
            return k.data
        }
        if let hit { return hit }
        guard let fetched = try await fetch(meta.namespace ?? "", meta.name ?? "") else {
            forget(key: key)
            return nil
        }
        let data = fetched.data ?? [:]
        state.withLock { s in
            s.clock += 1
            s.kept[key] = Kept(resourceVersion: version, data: data, lastUsed: s.clock)
            while s.kept.count > capacity, let oldest = s.kept.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
                s.kept[oldest] = nil
            }
        }
        return data
    }

    /// Drops what is kept of `key` (`namespace/name`): the ConfigMap was deleted.
    public func forget(key: String) { _ = state.withLock { $0.kept.removeValue(forKey: key) } }
}
