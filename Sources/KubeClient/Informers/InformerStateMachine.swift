import Foundation

/// The decisions of an `Informer`'s list/watch loop, with the time passed in and no I/O: what to
/// do next after each answer or failure of the API server, from which resourceVersion to resume,
/// how long to back off, when a watch is silent for too long, when contact is lost and restored,
/// and the counters of `InformerStats`.
///
/// The informer lists, then watches from the list's resourceVersion. Every event and bookmark
/// moves the resume point, and a watch that ends (the server's timeoutSeconds) or drops resumes
/// from it. 410 Gone and ERROR events lead to a relist. Failures back off exponentially (see
/// `Backoff`); the backoff starts over once an event or bookmark arrives. A watch silent for
/// longer than `silenceBound` is cut and resumed without backoff.
struct InformerStateMachine: Sendable {
    enum State: Sendable, Equatable {
        /// No resourceVersion to resume from: the collection is listed.
        case listing
        /// Watching from `resourceVersion` (empty: the list gave none), which every event and
        /// bookmark moves.
        case watching(from: String)
        /// Sleeping until `until` before a relist (`resumingFrom` nil) or a watch from `resumingFrom`.
        case waiting(until: Date, resumingFrom: String?)
    }

    /// What the driver does next.
    enum Next: Sendable, Equatable {
        /// List the collection, then report `listed`, `listFoundNoResource` or `listFailed`.
        case list
        /// Open a watch from `resourceVersion` with bookmarks, then report `watchOpened` or a failure.
        case watch(from: String)
        /// Read the open watch's next event, then report it, `watchEnded` or a failure.
        case keepWatching
        /// Sleep for the delay, then report `sleepEnded`.
        case sleep(Duration)
    }

    struct Action: Sendable, Equatable {
        /// A loss or a return of contact, to be reported (each once per outage).
        var contact: Contact.Transition?
        var next: Next
        /// The failure that led to this step deserves a warning: it lost contact, or it is of
        /// another kind than the failure last reported in this outage (a 503 that became a 403).
        var reportFailure = false

        init(contact: Contact.Transition?, next: Next, reportFailure: Bool = false) {
            self.contact = contact
            self.next = next
            self.reportFailure = reportFailure
        }
    }

    /// What the watchdog of an open watch does.
    enum SilenceAction: Sendable, Equatable {
        case none
        /// End the watch with `WatchSilence`: nothing arrived on it for `silenceBound`.
        case cutWatch
    }

    /// How long a watch may bring nothing before it is cut.
    let silenceBound: Duration
    /// How long to wait before listing again a resource the cluster does not serve.
    let notServedRetry: Duration
    private(set) var state = State.listing
    private(set) var backoff: Backoff
    private(set) var contact = Contact()
    private(set) var stats = InformerStats()
    /// While contact is lost: the failure, in words (`InformerStatus.failure`).
    private(set) var failure: String?
    /// The kind of the failure last reported in this outage (see `KubeAPIError.kind`).
    private var reportedKind: String?

    init(backoff: Backoff, silenceBound: Duration, notServedRetry: Duration = .seconds(60)) {
        self.backoff = backoff
        self.silenceBound = silenceBound
        self.notServedRetry = notServedRetry
    }

    /// The first step: a list.
    mutating func start() -> Next {
        state = .listing
        return .list
    }

    /// How often the watchdog of an open watch checks for silence.
    var silenceCheckInterval: Duration { min(silenceBound / 4, .seconds(5)) }

    // MARK: Listing

    /// The list succeeded at `now`, at `resourceVersion` (nil: the server gave none).
    mutating func listed(resourceVersion: String?, at now: Date) -> Action {
        let transition = heard(at: now)
        stats.lists += 1
        return Action(contact: transition, next: watch(from: resourceVersion ?? ""))
    }

    /// The list found no such resource (an optional resource whose CRD is not installed): the
    /// server answered, the collection is empty, and it is listed again after `notServedRetry`.
    mutating func listFoundNoResource(at now: Date) -> Action {
        let transition = heard(at: now)
        state = .waiting(until: now + notServedRetry, resumingFrom: nil)
        return Action(contact: transition, next: .sleep(notServedRetry))
    }

    /// The list failed at `now`: back off, then list again.
    mutating func listFailed(_ error: any Error, at now: Date) -> Action {
        backOff(after: error, at: now, resumingFrom: nil)
    }

    // MARK: Watching

    /// The watch's request was answered at `now`.
    mutating func watchOpened(at now: Date) -> Action {
        Action(contact: heard(at: now), next: .keepWatching)
    }

    /// An ADDED, MODIFIED, DELETED or BOOKMARK event arrived at `now`, carrying `resourceVersion`;
    /// `replayed`: the store already had the object at that version.
    mutating func received(resourceVersion: String?, replayed: Bool, at now: Date) -> Action {
        let transition = heard(at: now)
        if replayed { stats.replayedEvents += 1 }
        if let resourceVersion, !resourceVersion.isEmpty { state = .watching(from: resourceVersion) }
        stats.events += 1
        backoff.reset()
        return Action(contact: transition, next: .keepWatching)
    }

    /// An ERROR event with the status `code` arrived at `now`: the watch ends and the collection
    /// is listed again.
    mutating func receivedError(code: Int?, at now: Date) -> Action {
        let transition = heard(at: now)
        if code == 410 { stats.relistsAfterGone += 1 } else { stats.relistsAfterError += 1 }
        state = .listing
        return Action(contact: transition, next: .list)
    }

    /// The server ended the watch cleanly (its timeoutSeconds elapsed): resume it.
    mutating func watchEnded() -> Action {
        Action(contact: nil, next: resume())
    }

    /// The watch's request or stream failed with 410 Gone at `now`: its resourceVersion expired,
    /// so the collection is listed again, at once.
    mutating func watchExpired(at now: Date) -> Action {
        let transition = heard(at: now)
        stats.relistsAfterGone += 1
        state = .listing
        return Action(contact: transition, next: .list)
    }

    /// The watch was cut for silence: it is resumed at once. This is no loss of contact yet; the
    /// new watch's request decides that.
    mutating func watchCutForSilence() -> Action {
        stats.reconnects += 1
        stats.silentWatches += 1
        return Action(contact: nil, next: resume())
    }

    /// The watch's request or stream failed at `now` (not with 410 Gone): back off, then resume.
    mutating func watchFailed(_ error: any Error, at now: Date) -> Action {
        stats.reconnects += 1
        var resourceVersion: String?
        if case .watching(let current) = state { resourceVersion = current }
        return backOff(after: error, at: now, resumingFrom: resourceVersion)
    }

    /// The watchdog of the open watch checks at `now` whether it has been silent too long.
    func checkSilence(at now: Date) -> SilenceAction {
        guard case .watching = state, contact.isSilent(at: now, bound: silenceBound.timeInterval) else { return .none }
        return .cutWatch
    }

    // MARK: Waiting

    /// The sleep of `Next.sleep` is over.
    mutating func sleepEnded() -> Next {
        guard case .waiting(_, let resourceVersion) = state else { return resume() }
        guard let resourceVersion else {
            state = .listing
            return .list
        }
        return watch(from: resourceVersion)
    }

    private mutating func backOff(after error: any Error, at now: Date, resumingFrom resourceVersion: String?) -> Action {
        let delay = backoff.next()
        let kind = (error as? KubeAPIError)?.kind ?? "unreachable"
        stats.lastError = "\(error)"
        stats.failures[kind, default: 0] += 1
        failure = "\(error)"
        let transition = contact.failed(at: now)
        let report = transition == .lost || kind != reportedKind
        reportedKind = kind
        state = .waiting(until: now + delay, resumingFrom: resourceVersion)
        return Action(contact: transition, next: .sleep(delay), reportFailure: report)
    }

    /// The server answered at `now`: contact (and the end of an outage) is recorded.
    private mutating func heard(at now: Date) -> Contact.Transition? {
        failure = nil
        reportedKind = nil
        return contact.heard(at: now)
    }

    /// The next step from the current resume point.
    private mutating func resume() -> Next {
        switch state {
        case .watching(let resourceVersion), .waiting(_, .some(let resourceVersion)):
            return watch(from: resourceVersion)
        case .listing, .waiting(_, .none):
            state = .listing
            return .list
        }
    }

    private mutating func watch(from resourceVersion: String) -> Next {
        stats.watches += 1
        state = .watching(from: resourceVersion)
        return .watch(from: resourceVersion)
    }
}

extension Duration {
    /// The duration in seconds, as `Date` and `TimeInterval` count them.
    fileprivate var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension Date {
    fileprivate static func + (date: Date, duration: Duration) -> Date {
        date.addingTimeInterval(duration.timeInterval)
    }
}
