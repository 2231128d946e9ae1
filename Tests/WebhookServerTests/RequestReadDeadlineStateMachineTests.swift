import NIOCore
import TestSupport
import Testing

@testable import WebhookServer

/// The read deadlines' decisions alone: a manual clock (instants passed in), no channel, no timer.
@Suite("Request read deadlines: the state machine")
struct RequestReadDeadlineStateMachineTests {
    /// The connection starts at t0.
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func at(_ ms: Int64) -> NIODeadline { t0 + .milliseconds(ms) }

    static func machine(
        head: TimeAmount = .seconds(1), body: TimeAmount = .seconds(1), idle: TimeAmount? = nil
    ) -> RequestReadDeadlineStateMachine {
        RequestReadDeadlineStateMachine(head: head, body: body, idle: idle)
    }

    /// A head that trickles in from the connection's start is closed at its deadline, not a
    /// nanosecond before; the bytes that trickle in do not move it.
    @Test func aTricklingFirstHeadIsClosedExactlyAtItsDeadline() {
        var m = Self.machine()
        #expect(m.connectionStarted(at: Self.t0) == .scheduleTimer(at: Self.at(1000)), "counted from the connection's start")
        #expect(m.phase == .head)
        for ms in stride(from: 200 as Int64, to: 1000, by: 200) {
            #expect(m.bytesRead(at: Self.at(ms)) == .none, "more bytes of the same head at \(ms) ms")
        }
        #expect(m.deadline == Self.at(1000))
        let early = Self.at(1000) - .nanoseconds(1)
        #expect(m.timerFired(at: early) == .scheduleTimer(at: Self.at(1000)), "fired early: waits for the deadline")
        #expect(m.timerFired(at: Self.at(1000)) == .closeAsSlow)
        #expect(m.timer == nil)
        #expect(m.connectionClosed() == .none, "no timer left to cancel")
    }

    /// A client that never sends a byte (no TLS handshake) is closed at the first head's deadline.
    @Test func aSilentConnectionIsClosedAtTheFirstHeadsDeadline() {
        var m = Self.machine(head: .seconds(2))
        #expect(m.connectionStarted(at: Self.t0) == .scheduleTimer(at: Self.at(2000)))
        #expect(m.timerFired(at: Self.at(2000)) == .closeAsSlow)
    }

    /// The head arrives in time: the body's deadline is later than the scheduled timer, so the
    /// timer stays; when it fires it follows the moved deadline instead of closing.
    @Test func aDeadlineMovedLaterReArmsTheTimerInsteadOfClosing() {
        var m = Self.machine()
        #expect(m.connectionStarted(at: Self.t0) == .scheduleTimer(at: Self.at(1000)))
        #expect(m.headRead(at: Self.at(300)) == .none, "the timer fires first, then follows the deadline")
        #expect(m.phase == .body)
        #expect(m.deadline == Self.at(1300))
        #expect(m.timer == Self.at(1000))
        #expect(m.timerFired(at: Self.at(1000)) == .scheduleTimer(at: Self.at(1300)))
        #expect(m.timer == Self.at(1300))
        // A body that trickles past its own deadline is closed there.
        #expect(m.timerFired(at: Self.at(1300)) == .closeAsSlow)
    }

    /// A deadline earlier than the scheduled timer replaces it.
    @Test func aDeadlineMovedEarlierReplacesTheTimer() {
        var m = Self.machine(head: .seconds(10), body: .seconds(1))
        #expect(m.connectionStarted(at: Self.t0) == .scheduleTimer(at: Self.at(10_000)))
        #expect(m.headRead(at: Self.at(500)) == .scheduleTimer(at: Self.at(1500)))
        #expect(m.timer == Self.at(1500))
    }

    /// Without an idle timeout there is no deadline between requests: a timer still scheduled
    /// stops when it fires, and nothing is scheduled until the next request's first bytes.
    @Test func noTimerBetweenRequests() {
        var m = Self.machine()
        _ = m.connectionStarted(at: Self.t0)
        _ = m.headRead(at: Self.at(100))
        m.requestRead()
        #expect(m.phase == .answering)
        #expect(m.deadline == nil)
        #expect(m.bytesRead(at: Self.at(150)) == .none, "bytes during the answer do not start a deadline")
        #expect(m.responseWritten(at: Self.at(200)) == .none)
        #expect(m.phase == .idle)
        #expect(m.timerFired(at: Self.at(1000)) == .none, "no deadline: the timer stops")
        #expect(m.timer == nil)
        // Idle far past both deadlines: the next request's first bytes start its head's deadline.
        #expect(m.timerFired(at: Self.at(60_000)) == .none)
        #expect(m.bytesRead(at: Self.at(60_000)) == .scheduleTimer(at: Self.at(61_000)))
        #expect(m.phase == .head)
        #expect(m.bytesRead(at: Self.at(60_500)) == .none)
        #expect(m.timerFired(at: Self.at(61_000)) == .closeAsSlow, "a head that then trickles is closed at its deadline")
    }

    /// Requests back to back, each in time: the one timer keeps following the deadline and
    /// never closes the connection.
    @Test func busyConnectionIsNeverClosed() {
        var m = Self.machine()
        var scheduled: [NIODeadline] = []
        func note(_ action: RequestReadDeadlineStateMachine.Action) {
            if case .scheduleTimer(let due) = action { scheduled.append(due) }
            #expect(action != .closeAsSlow)
        }
        note(m.connectionStarted(at: Self.t0))
        var t: Int64 = 0
        for _ in 0..<10 {
            note(m.bytesRead(at: Self.at(t)))
            note(m.headRead(at: Self.at(t + 100)))
            if let timer = m.timer, timer <= Self.at(t + 250) { note(m.timerFired(at: timer)) }
            m.requestRead()
            note(m.responseWritten(at: Self.at(t + 200)))
            t += 300
            if let timer = m.timer, timer <= Self.at(t) { note(m.timerFired(at: timer)) }
        }
        #expect(scheduled.count < 10, "one timer re-armed now and then, not one per request: \(scheduled.count)")
    }

    /// A machine with a 5 s idle timeout whose connection started at t0 and whose first request's
    /// head was read at 100 ms; the request is read whole, and being answered.
    static func answeringTheFirstRequest() -> RequestReadDeadlineStateMachine {
        var m = machine(idle: .seconds(5))
        _ = m.connectionStarted(at: t0)
        _ = m.headRead(at: at(100))
        m.requestRead()
        return m
    }

    /// Once every request read is answered, the connection may stay idle for `idle`: the timer
    /// follows the idle deadline and closes the connection there, not counted as slow.
    @Test func anIdleConnectionIsClosedAtTheIdleDeadline() {
        var m = Self.answeringTheFirstRequest()
        #expect(m.timer == Self.at(1000), "the first head's timer")
        #expect(m.responseWritten(at: Self.at(200)) == .none, "the scheduled timer fires first, then follows")
        #expect(m.phase == .idle && m.deadline == Self.at(5200))
        #expect(m.timerFired(at: Self.at(1000)) == .scheduleTimer(at: Self.at(5200)))
        #expect(m.timerFired(at: Self.at(5200) - .nanoseconds(1)) == .scheduleTimer(at: Self.at(5200)))
        #expect(m.timerFired(at: Self.at(5200)) == .closeAsIdle)
    }

    /// The next request's first bytes replace the idle deadline with its head's; the answer
    /// starts a new idle deadline from its own time.
    @Test func eachAnswerStartsTheIdleDeadlineAgain() {
        var m = Self.answeringTheFirstRequest()
        _ = m.responseWritten(at: Self.at(200))
        _ = m.timerFired(at: Self.at(1000))
        #expect(m.bytesRead(at: Self.at(4000)) == .scheduleTimer(at: Self.at(5000)), "the head's deadline is earlier than the idle one")
        #expect(m.deadline == Self.at(5000) && m.phase == .head)
        _ = m.headRead(at: Self.at(4100))
        m.requestRead()
        #expect(m.deadline == nil, "no deadline while answering")
        _ = m.responseWritten(at: Self.at(4200))
        #expect(m.deadline == Self.at(9200))
        #expect(m.timerFired(at: Self.at(5000)) == .scheduleTimer(at: Self.at(9200)), "the timer follows the new idle deadline")
    }

    /// With requests pipelined, the idle deadline starts only when the last one read is answered.
    @Test func pipelinedRequestsAreAllAnsweredBeforeTheIdleDeadline() {
        var m = Self.answeringTheFirstRequest()
        _ = m.headRead(at: Self.at(110))
        m.requestRead()
        #expect(m.unanswered == 2)
        #expect(m.responseWritten(at: Self.at(200)) == .none)
        #expect(m.phase == .answering && m.deadline == nil, "one request still owes its answer")
        _ = m.responseWritten(at: Self.at(300))
        #expect(m.phase == .idle && m.deadline == Self.at(5300))
        #expect(m.unanswered == 0)
    }

    /// A closed connection cancels its timer; one that fires afterwards does nothing.
    @Test func closingTheConnectionCancelsTheTimer() {
        var m = Self.machine()
        _ = m.connectionStarted(at: Self.t0)
        #expect(m.connectionClosed() == .cancelTimer)
        #expect(m.deadline == nil)
        #expect(m.timer == nil)
        #expect(m.timerFired(at: Self.at(1000)) == .none)
    }
}
