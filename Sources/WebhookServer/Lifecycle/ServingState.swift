import Foundation
import Synchronization

/// What `/readyz` needs beyond the informers: the locality index built from the synced caches
/// (so the first pods are scored by bytes, not by an empty index), and no SIGTERM yet (so
/// endpoints drop the pod while it still serves).
public final class ServingState: Sendable {
    private let draining = Atomic<Bool>(false)
    private let primed = Atomic<Bool>(false)
    public init() {}
    public var isDraining: Bool { draining.load(ordering: .relaxed) }
    public var isLocalityPrimed: Bool { primed.load(ordering: .relaxed) }
    func startDraining() { draining.store(true, ordering: .relaxed) }
    func localityPrimed() { primed.store(true, ordering: .relaxed) }
}
