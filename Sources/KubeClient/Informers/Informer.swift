public import Foundation
public import Logging
import Synchronization

/// Keeps a `Store` in step with the API server: list, then watch from the list's
/// resourceVersion; resume the watch from the last seen resourceVersion (events and bookmarks)
/// when the stream ends or drops, so nothing is lost or replayed; relist on 410 Gone and on an
/// ERROR event, reporting only the difference; back off exponentially, with jitter, on failure.
///
/// A watch that brings nothing (no event, no bookmark) for `silenceBound` is abandoned and
/// resumed: a server that went away without closing the connection would otherwise hold it until
/// the client's read timeout, minutes later. kube-apiserver sends a bookmark at least once a
/// minute on a watch that asks for them, so a healthy quiet watch is never cut. Contact is lost
/// when a call fails (the re-established watch of a server that is gone fails at its connect or
/// request timeout); losing and regaining it is logged once each (see `Contact`).
///
/// The decisions are `InformerStateMachine`'s; the informer performs them: it calls the API
/// server, applies the events to the store, sleeps, and logs.
public final class Informer<T: KubeObject>: Sendable {
    public let resource: Resource
    public let namespace: String?
    public let labelSelector: String?
    public let store: Store<T>
    let client: KubeAPIClient
    let logger: Logger
    let pageSize: Int
    let watchSeconds: ClosedRange<Int>
    let optionalResource: Bool
    /// Lists and watches ask for each object's metadata alone (see `KubeAPIClient.list`).
    let metadataOnly: Bool
    /// The instants passed to the state machine: contact and silence are reckoned with them.
    let now: @Sendable () -> Date
    /// What the informer sleeps on: backoff delays, the wait for a resource that is not served,
    /// the intervals between silence checks.
    let clock: any Clock<Duration>
    private let machine: Mutex<InformerStateMachine>
    private let synced = Atomic<Bool>(false)
    private let handlers = Mutex<[@Sendable (StoreEvent<T>) -> Void]>([])

    public init(
        client: KubeAPIClient, resource: Resource, namespace: String? = nil, labelSelector: String? = nil,
        store: Store<T> = Store(), pageSize: Int = 500, watchSeconds: ClosedRange<Int> = 300...600,
        backoff: Backoff = Backoff(), named name: String? = nil, optionalResource: Bool = false, metadataOnly: Bool = false,
        silenceBound: Duration = .seconds(150),
        now: @escaping @Sendable () -> Date = { Date() }, clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "locus.informer")
    ) {
        self.now = now
        self.clock = clock
        self.machine = Mutex(InformerStateMachine(backoff: backoff, silenceBound: silenceBound))
        self.optionalResource = optionalResource
        self.metadataOnly = metadataOnly
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.store = store
        self.pageSize = pageSize
        self.watchSeconds = watchSeconds
        var logger = logger
        logger[metadataKey: "resource"] = "\(name ?? "\(resource)")"
        self.logger = logger
    }

    /// True once the first list has been stored.
    public var hasSynced: Bool { synced.load(ordering: .acquiring) }

    public var stats: InformerStats { machine.withLock { $0.stats } }

    /// Whether the API server is answering this informer, and since when it last did.
    public var contact: Contact { machine.withLock { $0.contact } }

    /// Its first list done, its counters, its contact and, while contact is lost, why.
    public var status: InformerStatus {
        let synced = hasSynced
        return machine.withLock { InformerStatus(synced: synced, stats: $0.stats, contact: $0.contact, failure: $0.failure) }
    }

    /// Registers a handler called, in order, for every change applied to the store.
    public func addHandler(_ handler: @escaping @Sendable (StoreEvent<T>) -> Void) {
        handlers.withLock { $0.append(handler) }
    }

    private func emit(_ event: StoreEvent<T>) {
        let hs = handlers.withLock { $0 }
        for h in hs { h(event) }
    }

    /// Runs until the task is cancelled.
    public func run() async {
        var next = machine.withLock { $0.start() }
        // The open watch, read one event at a time; dropping it ends the watch's connection.
        var watch: AsyncThrowingStream<WatchEvent<T>, any Error>.AsyncIterator?
        while !Task.isCancelled {
            let step: InformerStateMachine.Next?
            switch next {
            case .list:
                step = await list()
            case .watch(let resourceVersion):
                do {
                    let stream = try await client.watch(
                        T.self, resource, namespace: namespace,
                        options: WatchOptions(
                            labelSelector: labelSelector, resourceVersion: resourceVersion, allowWatchBookmarks: true,
                            timeoutSeconds: Int.random(in: watchSeconds)), metadataOnly: metadataOnly)
                    step = perform(machine.withLock { $0.watchOpened(at: now()) })
                    watch = boundingSilence(stream).makeAsyncIterator()
                } catch {
                    step = watchFailed(error)
                }
            case .keepWatching:
                do {
                    if let event = try await watch?.next() {
                        step = apply(event)
                    } else {
                        // A clean end: the server's timeoutSeconds elapsed.
                        step = machine.withLock { $0.watchEnded() }.next
                    }
                } catch {
                    step = watchFailed(error)
                }
            case .sleep(let delay):
                try? await clock.sleep(for: delay)
                step = machine.withLock { $0.sleepEnded() }
            }
            guard let step else { return }
            if step != .keepWatching { watch = nil }
            next = step
        }
    }

    /// Lists the collection into the store; nil when the task was cancelled.
    private func list() async -> InformerStateMachine.Next? {
        do {
            let (items, resourceVersion) = try await client.listAll(
                T.self, resource, namespace: namespace, labelSelector: labelSelector, pageSize: pageSize, metadataOnly: metadataOnly,
                keep: \.retained)
            for e in store.replace(with: items) { emit(e) }
            let next = perform(machine.withLock { $0.listed(resourceVersion: resourceVersion, at: now()) })
            if !synced.exchange(true, ordering: .acquiringAndReleasing) {
                logger.info("informer synced", metadata: ["items": "\(items.count)"])
            } else if items.count >= 1_000 {
                // A relist of a large collection freed the whole previous copy and the pages'
                // decoding garbage: give it back, and merge what is left free, so the heap the
                // request path allocates from is not a sieve of small holes (measured after a
                // relist of 15,000 nodes and 60,000 claims and volumes: /prioritize p50 7 -> 12 ms
                // without this).
                FreedMemory.release()
            }
            return next
        } catch let error as KubeAPIError where error.isNotFound && optionalResource {
            // The resource is not served (its CRD is not installed): nothing to cache.
            for e in store.replace(with: []) { emit(e) }
            let next = perform(machine.withLock { $0.listFoundNoResource(at: now()) })
            if !synced.exchange(true, ordering: .acquiringAndReleasing) {
                logger.notice("resource not served by this cluster (CRD not installed?); treating it as empty")
            }
            return next
        } catch {
            if Task.isCancelled { return nil }
            return backOff(machine.withLock { $0.listFailed(error, at: now()) }, after: error, "list failed")
        }
    }

    /// Applies one event of the open watch to the store.
    private func apply(_ event: WatchEvent<T>) -> InformerStateMachine.Next {
        var replayed = false
        switch event.type {
        case .added, .modified:
            if let o = event.object {
                if let change = store.upsert(o.retained) { emit(change) } else { replayed = true }
            }
        case .deleted:
            if let o = event.object, let change = store.delete(o) { emit(change) }
        case .bookmark:
            break
        case .error:
            let status = event.status
            let next = perform(machine.withLock { $0.receivedError(code: status?.code, at: now()) })
            logger.info(
                "watch ERROR event, relisting",
                metadata: [
                    "code": "\(status?.code ?? 0)", "reason": "\(status?.reason ?? "")",
                    "message": "\(status?.message ?? "")",
                ])
            return next
        }
        return perform(machine.withLock { $0.received(resourceVersion: event.resourceVersion, replayed: replayed, at: now()) })
    }

    /// What follows a watch's failure; nil when the task was cancelled.
    private func watchFailed(_ error: any Error) -> InformerStateMachine.Next? {
        switch error {
        case let error as KubeAPIError where error.isGone:
            let next = perform(machine.withLock { $0.watchExpired(at: now()) })
            logger.info("resourceVersion expired (410 Gone), relisting")
            return next
        case let silence as WatchSilence:
            logger.info("watch silent, re-establishing it", metadata: ["bound": "\(silence.bound)"])
            return machine.withLock { $0.watchCutForSilence() }.next
        default:
            if Task.isCancelled { return nil }
            return backOff(machine.withLock { $0.watchFailed(error, at: now()) }, after: error, "watch dropped, resuming")
        }
    }

    /// Reports the action's change of contact; returns its next step.
    private func perform(_ action: InformerStateMachine.Action) -> InformerStateMachine.Next {
        if case .restored(let outage)? = action.contact {
            logger.warning(
                "contact with the API server restored; the cache is current again",
                metadata: ["outageSeconds": "\(Int(outage.rounded()))"])
        }
        return action.next
    }

    /// A failure is logged at warning level when it loses contact (the first list's failure
    /// included) or is of another kind than the one reported for this outage; retries that fail
    /// the same way are logged at debug level. The error names the call, the HTTP status and the
    /// API server's message.
    private func backOff(
        _ action: InformerStateMachine.Action, after error: any Error, _ what: String
    ) -> InformerStateMachine.Next {
        if action.reportFailure {
            let message =
                if !hasSynced {
                    "the first list failed; Locus is not ready until it succeeds"
                } else if action.contact == .lost {
                    "lost contact with the API server; serving the cached objects, which may be stale"
                } else {
                    "the API server still fails, now in another way; serving the cached objects, which may be stale"
                }
            logger.warning("\(message)", metadata: ["error": "\(error)"])
        }
        if case .sleep(let delay) = action.next {
            logger.debug("\(what)", metadata: ["error": "\(error)", "retryIn": "\(delay)"])
        }
        return action.next
    }

    /// `stream`'s events, ending with `WatchSilence` once the state machine finds the watch
    /// silent. Ending the iteration cancels the watch's connection.
    private func boundingSilence(
        _ stream: AsyncThrowingStream<WatchEvent<T>, any Error>
    ) -> AsyncThrowingStream<WatchEvent<T>, any Error> {
        let (out, continuation) = AsyncThrowingStream<WatchEvent<T>, any Error>.makeStream()
        let pump = Task {
            do {
                for try await event in stream { continuation.yield(event) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        let (bound, tick) = machine.withLock { ($0.silenceBound, $0.silenceCheckInterval) }
        let clock = clock
        let watchdog = Task { [weak self] in
            while !Task.isCancelled {
                try? await clock.sleep(for: tick)
                guard let self, !Task.isCancelled else { return }
                let t = self.now()
                if self.machine.withLock({ $0.checkSilence(at: t) }) == .cutWatch {
                    continuation.finish(throwing: WatchSilence(bound: bound))
                    return
                }
            }
        }
        continuation.onTermination = { _ in
            pump.cancel()
            watchdog.cancel()
        }
        return out
    }
}
