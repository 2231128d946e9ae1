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
public final class Informer<T: KubeObject>: Sendable {
    public let resource: Resource
    public let namespace: String?
    public let labelSelector: String?
    public let store: Store<T>
    let client: KubeAPIClient
    let logger: Logger
    let pageSize: Int
    let watchSeconds: ClosedRange<Int>
    let backoffPolicy: Backoff
    let optionalResource: Bool
    let silenceBound: Duration
    let now: @Sendable () -> Date
    private let contactBox = Mutex(Contact())
    private let synced = Atomic<Bool>(false)
    private let statsBox = Mutex(InformerStats())
    private let handlers = Mutex<[@Sendable (StoreEvent<T>) -> Void]>([])

    public init(
        client: KubeAPIClient, resource: Resource, namespace: String? = nil, labelSelector: String? = nil,
        store: Store<T> = Store(), pageSize: Int = 500, watchSeconds: ClosedRange<Int> = 300...600,
        backoff: Backoff = Backoff(), optionalResource: Bool = false, silenceBound: Duration = .seconds(150),
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "locus.informer")
    ) {
        self.silenceBound = silenceBound
        self.now = now
        self.optionalResource = optionalResource
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.store = store
        self.pageSize = pageSize
        self.watchSeconds = watchSeconds
        self.backoffPolicy = backoff
        var logger = logger
        logger[metadataKey: "resource"] = "\(resource)"
        self.logger = logger
    }

    /// True once the first list has been stored.
    public var hasSynced: Bool { synced.load(ordering: .acquiring) }

    public var stats: InformerStats { statsBox.withLock { $0 } }

    /// Whether the API server is answering this informer, and since when it last did.
    public var contact: Contact { contactBox.withLock { $0 } }

    private func heard() {
        let t = now()
        guard case .restored(let outage)? = contactBox.withLock({ $0.heard(at: t) }) else { return }
        logger.warning(
            "contact with the API server restored; the cache is current again",
            metadata: ["outageSeconds": "\(Int(outage.rounded()))"])
    }

    private func lostContact(_ error: any Error) {
        let t = now()
        guard contactBox.withLock({ $0.failed(at: t) }) == .lost else { return }
        logger.warning(
            "lost contact with the API server; serving the cached objects, which may be stale",
            metadata: ["error": "\(error)"])
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
        var resourceVersion: String? = nil  // nil: a (re)list is needed
        var backoff = backoffPolicy
        while !Task.isCancelled {
            if resourceVersion == nil {
                do {
                    let (items, rv) = try await client.listAll(
                        T.self, resource, namespace: namespace, labelSelector: labelSelector, pageSize: pageSize)
                    heard()
                    for e in store.replace(with: items) { emit(e) }
                    resourceVersion = rv ?? ""
                    statsBox.withLock { $0.lists += 1 }
                    if !synced.exchange(true, ordering: .acquiringAndReleasing) {
                        logger.info("informer synced", metadata: ["items": "\(items.count)"])
                    }
                } catch let error as KubeAPIError where error.isNotFound && optionalResource {
                    // The resource is not served (its CRD is not installed): nothing to cache.
                    heard()
                    for e in store.replace(with: []) { emit(e) }
                    if !synced.exchange(true, ordering: .acquiringAndReleasing) {
                        logger.notice("resource not served by this cluster (CRD not installed?); treating it as empty")
                    }
                    try? await Task.sleep(for: .seconds(60))
                    continue
                } catch {
                    if Task.isCancelled { return }
                    await fail(error, "list failed", &backoff)
                    continue
                }
            }
            do {
                statsBox.withLock { $0.watches += 1 }
                let stream = try await client.watch(
                    T.self, resource, namespace: namespace,
                    options: WatchOptions(
                        labelSelector: labelSelector, resourceVersion: resourceVersion, allowWatchBookmarks: true,
                        timeoutSeconds: Int.random(in: watchSeconds)))
                heard()
                for try await event in boundingSilence(stream) {
                    heard()
                    switch event.type {
                    case .added, .modified:
                        if let o = event.object {
                            if let change = store.upsert(o) {
                                emit(change)
                            } else {
                                statsBox.withLock { $0.replayedEvents += 1 }
                            }
                        }
                    case .deleted:
                        if let o = event.object, let change = store.delete(o) { emit(change) }
                    case .bookmark:
                        break
                    case .error:
                        let status = event.status
                        let gone = status?.code == 410
                        logger.info(
                            "watch ERROR event, relisting",
                            metadata: ["code": "\(status?.code ?? 0)", "reason": "\(status?.reason ?? "")",
                                "message": "\(status?.message ?? "")"])
                        statsBox.withLock {
                            if gone { $0.relistsAfterGone += 1 } else { $0.relistsAfterError += 1 }
                        }
                        resourceVersion = nil
                    }
                    if event.type == .error { break }
                    if let rv = event.resourceVersion, !rv.isEmpty { resourceVersion = rv }
                    statsBox.withLock { $0.events += 1 }
                    backoff.reset()
                }
                // A clean end: the server's timeoutSeconds elapsed. Resume from the last version.
            } catch let error as KubeAPIError where error.isGone {
                heard()
                logger.info("resourceVersion expired (410 Gone), relisting")
                statsBox.withLock { $0.relistsAfterGone += 1 }
                resourceVersion = nil
            } catch let silence as WatchSilence {
                // Not yet a loss of contact: the new watch's request decides that.
                statsBox.withLock {
                    $0.reconnects += 1
                    $0.silentWatches += 1
                }
                logger.info("watch silent, re-establishing it", metadata: ["bound": "\(silence.bound)"])
            } catch {
                if Task.isCancelled { return }
                statsBox.withLock { $0.reconnects += 1 }
                await fail(error, "watch dropped, resuming", &backoff)
            }
        }
    }

    /// Failures are logged at warning level only when they lose contact; retries during an
    /// outage that is already reported are logged at debug level.
    private func fail(_ error: any Error, _ what: String, _ backoff: inout Backoff) async {
        let delay = backoff.next()
        statsBox.withLock { $0.lastError = "\(error)" }
        lostContact(error)
        logger.debug("\(what)", metadata: ["error": "\(error)", "retryIn": "\(delay)"])
        try? await Task.sleep(for: delay)
    }

    /// `stream`'s events, ending with `WatchSilence` once the informer has heard nothing for
    /// `silenceBound`. Ending the iteration cancels the watch's connection.
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
        let bound = silenceBound
        let seconds = Double(bound.components.seconds) + Double(bound.components.attoseconds) / 1e18
        let tick = min(bound / 4, .seconds(5))
        let watchdog = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                guard let self, !Task.isCancelled else { return }
                let t = self.now()
                if self.contactBox.withLock({ $0.isSilent(at: t, bound: seconds) }) {
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
