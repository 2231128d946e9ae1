import NIOCore

/// The decisions behind `RequestReadDeadline`, with the time passed in and no channel: which
/// deadline a connection is under, when its one timer fires, and what to do when it fires.
///
/// A request's head must be complete within `head` of its first byte (for the first request, of
/// the connection's start), and its body within `body` of the head. Between the last answer and
/// the next request's first byte, the connection may stay idle for `idle` (nil: for ever). While
/// requests are being answered there is no deadline.
///
/// The deadline moves with every request, the timer does not: one timer is scheduled at a time
/// and, when it fires, the connection is closed (deadline passed), the timer follows the current
/// deadline (moved later), or stops (no deadline: requests being answered). A deadline set later
/// than the scheduled timer leaves the timer alone; one set earlier replaces it. So a request
/// costs clock reads, not timers scheduled and cancelled.
struct RequestReadDeadlineStateMachine {
    enum Phase: Equatable {
        /// Every request read is answered: waiting for the next request's first byte.
        case idle
        /// Reading a request's head.
        case head
        /// Reading a request's body.
        case body
        /// The request is read; its response is being written.
        case answering
    }

    enum Action: Equatable {
        case none
        /// Schedule the timer to fire at the deadline, cancelling the one scheduled, if any.
        case scheduleTimer(at: NIODeadline)
        case cancelTimer
        /// Close the connection: the client did not send its request in time.
        case closeAsSlow
        /// Close the connection: it was idle between requests for `idle`.
        case closeAsIdle
    }

    /// How long a request's head may take.
    let head: TimeAmount
    /// How long a request's body may take once its head is complete.
    let body: TimeAmount
    /// How long a connection may stay idle between requests (nil: for ever).
    let idle: TimeAmount?
    private(set) var phase = Phase.idle
    /// Requests read whose response is not written yet (more than one when the client pipelines).
    private(set) var unanswered = 0
    /// When the connection is closed unless the current phase ended; nil: no deadline.
    private(set) var deadline: NIODeadline?
    /// When the scheduled timer fires; nil: no timer is scheduled.
    private(set) var timer: NIODeadline?

    init(head: TimeAmount, body: TimeAmount, idle: TimeAmount? = nil) {
        self.head = head
        self.body = body
        self.idle = idle
    }

    /// The connection started at `now`: the first request's head is due within `head`, TLS
    /// handshake included, so a client that never sends a byte does not hold the connection.
    mutating func connectionStarted(at now: NIODeadline) -> Action {
        phase = .head
        return setDeadline(now + head)
    }

    /// Bytes arrived at `now`; between requests they start the next request's head.
    mutating func bytesRead(at now: NIODeadline) -> Action {
        guard phase == .idle else { return .none }
        phase = .head
        return setDeadline(now + head)
    }

    /// A request's head was complete at `now`: its body is due within `body`.
    mutating func headRead(at now: NIODeadline) -> Action {
        phase = .body
        return setDeadline(now + body)
    }

    /// The whole request is read: no deadline while it is answered. A timer that is scheduled
    /// stays, and stops when it fires.
    mutating func requestRead() {
        unanswered += 1
        phase = .answering
        deadline = nil
    }

    /// A response was written whole at `now`. Once every request read is answered, the next
    /// bytes start the next request and, until they come, the idle deadline runs.
    mutating func responseWritten(at now: NIODeadline) -> Action {
        unanswered = max(0, unanswered - 1)
        guard phase == .answering, unanswered == 0 else { return .none }
        phase = .idle
        guard let idle else { return .none }
        return setDeadline(now + idle)
    }

    /// The timer fired at `now`.
    mutating func timerFired(at now: NIODeadline) -> Action {
        timer = nil
        guard let deadline else { return .none }
        if deadline <= now { return phase == .idle ? .closeAsIdle : .closeAsSlow }
        timer = deadline
        return .scheduleTimer(at: deadline)
    }

    /// The connection is closed: nothing is due any more.
    mutating func connectionClosed() -> Action {
        deadline = nil
        guard timer != nil else { return .none }
        timer = nil
        return .cancelTimer
    }

    private mutating func setDeadline(_ due: NIODeadline) -> Action {
        deadline = due
        if let timer, timer <= due { return .none }  // it fires first, then follows the deadline
        timer = due
        return .scheduleTimer(at: due)
    }
}
