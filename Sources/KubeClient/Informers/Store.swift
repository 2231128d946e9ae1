import Foundation
import Synchronization

/// A change the informer applied to its store, delivered once per change.
public enum StoreEvent<T: KubeObject>: Sendable {
    case added(T)
    case updated(old: T, new: T)
    case deleted(T)

    public var object: T {
        switch self {
        case .added(let o), .deleted(let o): o
        case .updated(_, let n): n
        }
    }
}

/// A thread-safe cache of objects keyed by `namespace/name`, with secondary indexes.
///
/// Writers are the informer; readers (the request path) take a short lock and copy out values.
public final class Store<T: KubeObject>: Sendable {
    public typealias IndexFunction = @Sendable (T) -> [String]

    private struct State {
        var items: [String: T] = [:]
        var indexes: [String: [String: Set<String>]] = [:]
    }
    private let state = Mutex(State())
    private let indexers: [String: IndexFunction]
    private let changes = Atomic<UInt64>(0)

    public static var namespaceIndex: String { "namespace" }

    /// `indexers` maps an index name to the values an object is filed under.
    public init(indexers: [String: IndexFunction] = [:]) {
        var all = indexers
        all[Self.namespaceIndex] = { obj in obj.metadata.namespace.map { [$0] } ?? [] }
        self.indexers = all
    }

    /// Grows with every change to the content, after the change is in place: a value derived from
    /// what the store held when `revision` read R holds while `revision` still reads R.
    public var revision: UInt64 { changes.load(ordering: .acquiring) }

    private func changed() { changes.add(1, ordering: .releasing) }

    public func get(key: String) -> T? { state.withLock { $0.items[key] } }

    public func get(namespace: String?, name: String) -> T? {
        // The key `ObjectMeta.key` gives, without building an ObjectMeta on the request path.
        guard let namespace, !namespace.isEmpty else { return get(key: name) }
        return get(key: namespace + "/" + name)
    }

    public func list() -> [T] { state.withLock { Array($0.items.values) } }

    public var count: Int { state.withLock { $0.items.count } }

    /// Whether each key is in the store, under one lock; no object is copied.
    public func contains(_ keys: [String]) -> [Bool] {
        state.withLock { s in keys.map { s.items.index(forKey: $0) != nil } }
    }

    public var keys: [String] { state.withLock { Array($0.items.keys) } }

    /// Objects filed under `value` in the index `name`.
    public func byIndex(_ name: String, _ value: String) -> [T] {
        state.withLock { s in
            (s.indexes[name]?[value] ?? []).compactMap { s.items[$0] }
        }
    }

    /// The keys of the objects filed under `value` in the index `name`, unordered; no object is copied.
    public func keys(inIndex name: String, _ value: String) -> [String] {
        state.withLock { s in Array(s.indexes[name]?[value] ?? []) }
    }

    /// Inserts or replaces an object. Returns nil when the store already held this exact
    /// resourceVersion (a replayed event), so callers never report a change twice.
    @discardableResult
    public func upsert(_ object: T) -> StoreEvent<T>? {
        let key = object.metadata.key
        return state.withLock { s in
            let old = s.items[key]
            if let old, let rv = old.metadata.resourceVersion, rv == object.metadata.resourceVersion { return nil }
            if let old { unindex(&s, key: key, object: old) }
            s.items[key] = object
            index(&s, key: key, object: object)
            changed()
            return old.map { .updated(old: $0, new: object) } ?? .added(object)
        }
    }

    /// Removes an object. Returns nil if it was not there.
    @discardableResult
    public func delete(_ object: T) -> StoreEvent<T>? {
        let key = object.metadata.key
        return state.withLock { s in
            guard let old = s.items.removeValue(forKey: key) else { return nil }
            unindex(&s, key: key, object: old)
            changed()
            return .deleted(object)
        }
    }

    /// Replaces the whole content with a fresh list and returns the difference as events:
    /// objects new to the store are added, objects with a changed resourceVersion updated,
    /// objects missing from the list deleted, unchanged objects not reported.
    public func replace(with objects: [T]) -> [StoreEvent<T>] {
        state.withLock { s in
            var events: [StoreEvent<T>] = []
            var fresh: [String: T] = [:]
            fresh.reserveCapacity(objects.count)
            for o in objects { fresh[o.metadata.key] = o }
            for (key, old) in s.items where fresh[key] == nil {
                events.append(.deleted(old))
            }
            for (key, new) in fresh {
                if let old = s.items[key] {
                    if old.metadata.resourceVersion != new.metadata.resourceVersion || old.metadata.uid != new.metadata.uid {
                        events.append(.updated(old: old, new: new))
                    }
                } else {
                    events.append(.added(new))
                }
            }
            s.items = fresh
            s.indexes = [:]
            for (key, o) in fresh { index(&s, key: key, object: o) }
            changed()
            return events
        }
    }

    /// Re-creates every object from its JSON form (same objects, no events). A decoder that
    /// leaves garbage between the objects it keeps (Yams on a large cluster-state file) strews
    /// them over many pages; the fresh copies are laid out together, so once the old ones and
    /// the garbage are freed the heap can be given back (`FreedMemory.release()`).
    public func compact() throws {
        let copies = try JSONDecoder().decode([T].self, from: JSONEncoder().encode(list()))
        _ = replace(with: copies)
    }

    private func index(_ s: inout State, key: String, object: T) {
        for (name, fn) in indexers {
            for value in fn(object) { s.indexes[name, default: [:]][value, default: []].insert(key) }
        }
    }

    private func unindex(_ s: inout State, key: String, object: T) {
        for (name, fn) in indexers {
            for value in fn(object) {
                s.indexes[name]?[value]?.remove(key)
                if s.indexes[name]?[value]?.isEmpty == true { s.indexes[name]?[value] = nil }
            }
        }
    }
}
