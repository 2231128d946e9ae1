public import Foundation
public import KubeClient
public import Logging
import Synchronization

/// Runs leader election for this replica: reads the Lease every retry period, takes it when it
/// is free or expired, renews it while held, and gives it up when stopped. `isLeader` says,
/// at any instant, whether this replica may act.
public final class LeaderElector: Sendable {
    public let namespace: String
    public let name: String
    let client: KubeAPIClient
    let candidate: Mutex<LeaseCandidate>
    let now: @Sendable () -> Date
    let logger: Logger
    let onChange: @Sendable (Bool) -> Void
    private let leading = Atomic<Bool>(false)
    let failures: FailureNotes

    public init(
        client: KubeAPIClient, namespace: String, name: String, identity: String, timings: LeaseTimings,
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger, onChange: @escaping @Sendable (Bool) -> Void = { _ in }
    ) {
        self.client = client
        self.namespace = namespace
        self.name = name
        self.candidate = Mutex(LeaseCandidate(identity: identity, timings: timings))
        self.now = now
        self.logger = logger
        self.failures = FailureNotes(logger: logger)
        self.onChange = onChange
    }

    public var identity: String { candidate.withLock { $0.identity } }

    /// Whether this replica holds the lease now (renewed within the renew deadline).
    public var isLeader: Bool {
        let leader = candidate.withLock { $0.isLeader(at: now()) }
        note(leader)
        return leader
    }

    /// Some replica holds the lease and renews it, as this replica last read it.
    public var someoneLeads: Bool { candidate.withLock { $0.someoneLeads(at: now()) } }

    /// Tries and renews every retry period until cancelled; then gives the lease up if held.
    public func run() async {
        let period = candidate.withLock { $0.timings.retryPeriod }
        while !Task.isCancelled {
            await attempt()
            _ = isLeader
            try? await Task.sleep(for: .milliseconds(Int64(period * 1000)))
        }
        // The calls of a cancelled task are cancelled too: the release runs in a task of its own.
        await Task { await self.release() }.value
    }

    /// One read and, if this replica may hold the lease, one write.
    func attempt() async {
        let current: Lease?
        do {
            current = try await client.get(Lease.self, .leases, namespace: namespace, name: name)
        } catch let error as KubeAPIError where error.isNotFound {
            current = nil
        } catch {
            failed("cannot read the leader lease", error)
            return
        }
        succeeded()
        let at = now()
        let action = candidate.withLock { $0.next(current: current?.spec, now: at) }
        let record: Lease.Spec
        var lease = Lease(metadata: ObjectMeta(name: name, namespace: namespace), spec: nil)
        switch action {
        case .wait:
            return
        case .create(let r):
            record = r
        case .update(let r):
            record = r
            lease.metadata.resourceVersion = current?.metadata.resourceVersion
        }
        lease.spec = record
        do {
            let body = try JSONEncoder().encode(lease)
            if case .create = action {
                _ = try await client.create(Lease.self, .leases, namespace: namespace, body: body)
            } else {
                _ = try await client.update(Lease.self, .leases, namespace: namespace, name: name, body: body)
            }
            candidate.withLock { $0.wrote(record, at: at) }
            succeeded()
        } catch let error as KubeAPIError where error.isConflict {
            // Another replica wrote first: read again next period.
            logger.debug("the leader lease changed under this replica's write", metadata: ["lease": "\(namespace)/\(name)"])
        } catch {
            failed("cannot write the leader lease", error)
        }
    }

    private func failed(_ what: String, _ error: any Error) {
        failures.failed(
            "leader lease", error, consequence: "\(what); no pod is gated while no replica holds the lease",
            metadata: ["lease": "\(namespace)/\(name)"])
    }

    private func succeeded() { failures.succeeded("leader lease", metadata: ["lease": "\(namespace)/\(name)"]) }

    /// Gives the lease up, if this replica holds it, so another takes over at once.
    func release() async {
        guard let lease = try? await client.get(Lease.self, .leases, namespace: namespace, name: name), let spec = lease.spec,
            let record = candidate.withLock({ $0.release(of: spec, now: now()) })
        else { return }
        var released = lease
        released.spec = record
        if let body = try? JSONEncoder().encode(released),
            (try? await client.update(Lease.self, .leases, namespace: namespace, name: name, body: body)) != nil
        {
            candidate.withLock { $0.wrote(record, at: now()) }
            logger.info("gave the leader lease up", metadata: ["lease": "\(namespace)/\(name)"])
        }
        note(false)
    }

    /// Logs and reports a change of leadership once.
    private func note(_ leader: Bool) {
        guard leading.exchange(leader, ordering: .acquiringAndReleasing) != leader else { return }
        if leader {
            logger.notice("became the leader: this replica runs the warm-up controller", metadata: ["lease": "\(namespace)/\(name)"])
        } else {
            logger.notice("no longer the leader", metadata: ["lease": "\(namespace)/\(name)"])
        }
        onChange(leader)
    }
}
