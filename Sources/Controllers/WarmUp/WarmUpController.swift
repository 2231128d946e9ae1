public import Foundation
import JSON
public import KubeClient
public import Locality
public import Logging
import Synchronization

/// The warm-up controller: for every pod that waits behind Locus's gate, it starts or reuses one
/// Fluid DataLoad per cold dataset and lifts the gate when the data is warm where the pod would
/// land, when the warm-ups end, or at the pod's deadline, leaving an Event on the pod each time.
///
/// Every replica keeps its informers (gated pods by label, DataLoads), so a new leader acts at
/// once; only the leader acts. Everything it needs survives a restart or a failover in the
/// cluster itself: what a pod waits for and until when is in its annotation, and which warm-ups
/// run is in the DataLoads.
public final class WarmUpController: Sendable {
    /// The pods Locus gated: its label, which the webhook puts on every pod it gates.
    public static let gatedPodSelector = "\(Keys.warmGated)=true"
    /// Seconds before a DataLoad whose create failed is tried again.
    static let retryAfterFailure: Double = 10

    let client: KubeAPIClient
    public let pods: Informer<RawPod>
    public let dataLoads: Informer<DataLoad>
    let placement: WarmPlacement
    let locality: LocalityIndex
    let isLeader: @Sendable () -> Bool
    let events: EventRecorder
    let metrics: (any WarmUpMetrics)?
    let period: Duration
    let logger: Logger
    let failures: FailureNotes
    let state = Mutex(State())

    struct State {
        /// Pod uid and dataset of every warm-up already announced on that pod.
        var announced: Set<String> = []
        /// DataLoads of Locus whose end was counted (nil until the first pass as leader, which
        /// takes the ends already there as counted).
        var countedEnds: Set<String>?
        /// Datasets whose DataLoad this replica is creating now.
        var creating: Set<DatasetRef> = []
        /// When a create last failed, per dataset: retried after `retryAfterFailure`, not every pass.
        var failedAt: [DatasetRef: Date] = [:]
    }

    public init(
        client: KubeAPIClient, placement: WarmPlacement, locality: LocalityIndex, isLeader: @escaping @Sendable () -> Bool,
        events: EventRecorder, metrics: (any WarmUpMetrics)?, period: Duration = .seconds(1), backoff: Backoff = Backoff(),
        logger: Logger
    ) {
        self.client = client
        self.placement = placement
        self.locality = locality
        self.isLeader = isLeader
        self.events = events
        self.metrics = metrics
        self.period = period
        self.logger = logger
        self.failures = FailureNotes(logger: logger)
        pods = Informer(
            client: client, resource: .pods, labelSelector: Self.gatedPodSelector, backoff: backoff, named: "pods (warm-up gated)",
            logger: logger)
        dataLoads = Informer(client: client, resource: .dataLoads, backoff: backoff, optionalResource: true, logger: logger)
    }

    /// Runs the informers and, while this replica leads, a pass every period, until cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.pods.run() }
            group.addTask { await self.dataLoads.run() }
            group.addTask {
                while !Task.isCancelled {
                    if self.pods.hasSynced, self.dataLoads.hasSynced, self.isLeader() {
                        await self.pass()
                    } else {
                        self.metrics?.setGatedPods(0)
                    }
                    try? await Task.sleep(for: self.period)
                }
            }
        }
    }

    /// One look at every gated pod.
    func pass(now: Date = Date()) async {
        let loads = dataLoads.store.list()
        countEnds(loads)
        let snapshot = locality.snapshot(now: now)
        let gated = pods.store.list().map(GatedPod.init)
        metrics?.setGatedPods(gated.filter(\.isGated).count)
        guard !gated.isEmpty else { return }
        let nodes = placement.nodeNames()
        for pod in gated {
            // The DataLoads as of now: a warm-up this pass started for an earlier pod is seen.
            await step(pod, loads: dataLoads.store.list(), nodes: nodes, snapshot: snapshot, now: now)
        }
    }

    func step(_ pod: GatedPod, loads: [DataLoad], nodes: [String], snapshot: LocalityIndex.Snapshot, now: Date) async {
        guard pod.isGated else {
            await lift(pod, .byHand, "the gate \(Keys.warmGate) was removed by someone else", now: now)
            return
        }
        guard let wait = pod.wait else {
            await lift(pod, .abandoned, "its annotation \(Keys.warmWaiting) is missing or not Locus's", now: now)
            return
        }
        let warm = placement.warmDatasets(pod: pod.json, wait: wait, nodes: nodes, locality: snapshot)
        let progress = wait.datasets.map { ref in
            (
                ref,
                WarmUpStep.progress(
                    of: ref, exists: placement.cache.dataset(namespace: ref.namespace, name: ref.name) != nil, gatedAt: pod.createdAt,
                    dataLoads: loads, warm: warm[ref])
            )
        }
        for (ref, p) in progress {
            if case .warming(let name) = p { await announce(pod, ref, "waits for DataLoad \(ref.namespace)/\(name) to warm \(ref)") }
        }
        switch WarmUpStep.decide(wait: wait, progress: progress, now: now) {
        case .wait:
            break
        case .start(let refs):
            for ref in refs { await startWarmUp(ref, for: pod, now: now) }
        case .lift(let reason, let text):
            await lift(pod, reason, text, now: now)
        }
    }

    /// Creates a DataLoad for `ref`, unless this replica is creating one. The created DataLoad goes
    /// into the informer's store at once, so the next pod waiting for `ref` finds it running.
    func startWarmUp(_ ref: DatasetRef, for pod: GatedPod, now: Date) async {
        let go = state.withLock { s -> Bool in
            if let at = s.failedAt[ref], now.timeIntervalSince(at) < Self.retryAfterFailure { return false }
            return s.creating.insert(ref).inserted
        }
        guard go else { return }
        defer { _ = state.withLock { $0.creating.remove(ref) } }
        let load = DataLoad(
            metadata: ObjectMeta(
                namespace: ref.namespace,
                labels: ["app.kubernetes.io/managed-by": Keys.managedByLocus, Keys.warmDataset: String(ref.name.prefix(63))]),
            spec: DataLoad.Spec(dataset: DataLoad.Target(name: ref.name, namespace: ref.namespace)))
        var body = load
        // Fluid names the loader's Helm release after the DataLoad: kept short.
        body.metadata.generateName = "\(ref.name.prefix(36))-warm-"
        do {
            let created = try await client.create(
                DataLoad.self, .dataLoads, namespace: ref.namespace, body: try JSONEncoder().encode(body))
            dataLoads.store.upsert(created)
            _ = state.withLock { $0.failedAt.removeValue(forKey: ref) }
            failures.succeeded("create DataLoad")
            metrics?.recordWarmUp("started")
            logger.info("started a warm-up", metadata: ["dataset": "\(ref)", "dataload": "\(created.metadata.name ?? "")"])
            await announce(pod, ref, "Locus started DataLoad \(ref.namespace)/\(created.metadata.name ?? "") to warm \(ref)")
        } catch {
            state.withLock { $0.failedAt[ref] = now }
            failures.failed(
                "create DataLoad", error, consequence: "pods waiting for \(ref) start at their deadline unless it warms otherwise",
                metadata: ["dataset": "\(ref)"])
        }
    }

    /// One `WarmUpStarted` Event per pod and dataset.
    func announce(_ pod: GatedPod, _ ref: DatasetRef, _ message: String) async {
        let first = state.withLock { $0.announced.insert("\(pod.uid) \(ref)").inserted }
        guard first else { return }
        await events.record(pod: pod.namespace, pod.name, uid: pod.uid, reason: "WarmUpStarted", type: "Normal", message: message)
    }

    /// Lifts Locus's gate with `text` recorded, then leaves the Event and the metrics.
    func lift(_ pod: GatedPod, _ reason: LiftReason, _ text: String, now: Date) async {
        let waited = pod.createdAt.map { max(0, now.timeIntervalSince($0)) } ?? 0
        let outcome = "\(reason.rawValue) after \(Int(waited.rounded())) s: \(text)"
        do {
            let body = Array(pod.liftPatch(outcome: outcome).jsonString.utf8)
            _ = try await client.patch(
                ObjectHeader.self, .pods, namespace: pod.namespace, name: pod.name, body: Data(body), patchType: .json)
        } catch let error as KubeAPIError where error.isInvalid || error.isNotFound {
            // The gates changed since the informer's copy (read again next pass), or the pod is gone.
            logger.debug("gate not lifted this pass", metadata: ["pod": "\(pod.key)", "error": "\(error)"])
            return
        } catch {
            failures.failed(
                "lift a warm-up gate", error, consequence: "the pod stays gated until the gate can be lifted or is removed by hand",
                metadata: ["pod": "\(pod.key)"])
            return
        }
        failures.succeeded("lift a warm-up gate")
        metrics?.recordLift(reason: reason, waitedSeconds: waited)
        let level: Logger.Level = reason.eventType == "Warning" ? .warning : .info
        logger.log(level: level, "warm-up gate lifted", metadata: ["pod": "\(pod.key)", "reason": "\(reason.rawValue)", "why": "\(text)"])
        await events.record(
            pod: pod.namespace, pod.name, uid: pod.uid, reason: reason.eventReason, type: reason.eventType,
            message: "Locus lifted the scheduling gate \(Keys.warmGate) (\(outcome))")
        state.withLock { s in s.announced = s.announced.filter { !$0.hasPrefix("\(pod.uid) ") } }
    }

    /// Counts how Locus's own DataLoads ended, each once.
    func countEnds(_ loads: [DataLoad]) {
        let ended = loads.filter { $0.metadata.labels?["app.kubernetes.io/managed-by"] == Keys.managedByLocus && !$0.isActive }
        let new = state.withLock { s -> [DataLoad] in
            guard var counted = s.countedEnds else {
                s.countedEnds = Set(ended.compactMap(\.metadata.uid))
                return []
            }
            let new = ended.filter { counted.insert($0.metadata.uid ?? "").inserted }
            s.countedEnds = counted
            return new
        }
        for load in new { metrics?.recordWarmUp(load.status?.phase == "Failed" ? "failed" : "completed") }
    }
}
