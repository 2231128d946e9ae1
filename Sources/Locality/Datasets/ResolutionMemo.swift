import Synchronization

/// What dataset resolution answered, kept for as long as the catalog it read is unchanged.
///
/// Resolving a pod's datasets reads several cached objects (claim, volume, dataset, runtime, the
/// FUSE DaemonSet) and builds the engine's access from them: done afresh, it is the largest single
/// cost of an admission answer, and the pods of one workload ask the same question again and
/// again. Each answer is filed under the catalog's `revision` at the time it was asked; a change
/// to the catalog moves the revision and so empties the memo, so an answer is never older than
/// the catalog a request reads. Bounded: when full, it starts over.
public final class ResolutionMemo: Sendable {
    struct Resolution: Hashable {
        var namespace: String
        var references: [DatasetReference]
    }
    struct Claim: Hashable {
        var namespace: String
        var claim: String
    }
    struct State {
        var revision: UInt64 = .max
        var resolutions: [Resolution: (datasets: [ResolvedDataset], problems: [ResolutionProblem])] = [:]
        var claims: [Claim: Bool] = [:]
        var namespaceLabels: [String: [String: String]?] = [:]

        /// Forgets everything when the catalog moved on or the memo is full.
        mutating func start(at revision: UInt64, capacity: Int) {
            guard revision != self.revision || resolutions.count + claims.count + namespaceLabels.count >= capacity else { return }
            self = State(revision: revision)
        }
    }

    private let state = Mutex(State())
    let capacity: Int

    public init(capacity: Int = 1024) { self.capacity = capacity }

    /// The answer for `key` at `revision`, computed (outside the lock) and kept when not known.
    private func value<Value>(
        at revision: UInt64, _ read: (inout State) -> Value?, _ write: (inout State, Value) -> Void, compute: () -> Value
    ) -> Value {
        if let known = state.withLock({ s -> Value? in
            s.start(at: revision, capacity: capacity)
            return read(&s)
        }) {
            return known
        }
        let fresh = compute()
        state.withLock { s in
            s.start(at: revision, capacity: capacity)
            // Filed under the revision read before computing: if the catalog changed meanwhile,
            // the next request reads a newer revision and does not see it.
            if s.revision == revision { write(&s, fresh) }
        }
        return fresh
    }

    func resolution(
        namespace: String, references: [DatasetReference], revision: UInt64,
        compute: () -> (datasets: [ResolvedDataset], problems: [ResolutionProblem])
    ) -> (datasets: [ResolvedDataset], problems: [ResolutionProblem]) {
        let key = Resolution(namespace: namespace, references: references)
        return value(at: revision, { $0.resolutions[key] }, { $0.resolutions[key] = $1 }, compute: compute)
    }

    func isDatasetClaim(namespace: String, claim: String, revision: UInt64, compute: () -> Bool) -> Bool {
        let key = Claim(namespace: namespace, claim: claim)
        return value(at: revision, { $0.claims[key] }, { $0.claims[key] = $1 }, compute: compute)
    }

    func namespaceLabels(_ namespace: String, revision: UInt64, compute: () -> [String: String]?) -> [String: String]? {
        value(at: revision, { $0.namespaceLabels[namespace] }, { $0.namespaceLabels[namespace] = $1 }, compute: compute)
    }
}
