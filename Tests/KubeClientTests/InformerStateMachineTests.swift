import Foundation
import TestSupport
import Testing

@testable import KubeClient

/// The informer's decisions alone: a manual clock (instants passed in), no server, no sleeping.
@Suite("Informer: the list/watch state machine")
struct InformerStateMachineTests {
    /// The informer starts at t0.
    static let t0 = Date(timeIntervalSince1970: 1_000_000)

    static func at(_ seconds: TimeInterval) -> Date { t0 + seconds }

    static func machine(silenceBound: Duration = .seconds(10)) -> InformerStateMachine {
        InformerStateMachine(backoff: Backoff(base: .milliseconds(100), cap: .seconds(1)), silenceBound: silenceBound)
    }

    static let forbidden = KubeAPIError.status(method: "GET", path: "/api/v1/pods", code: 403, status: nil)
    static let unreachable = KubeAPIError.transport(method: "GET", path: "/api/v1/pods", reason: "connection refused")

    static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// The delay of a `.sleep` step; nil for any other step.
    static func delay(_ action: InformerStateMachine.Action) -> Duration? {
        if case .sleep(let delay) = action.next { return delay }
        return nil
    }

    /// The machine listed at t0 from version `resourceVersion` and has an open watch.
    static func watching(from resourceVersion: String = "10") -> InformerStateMachine {
        var m = machine()
        _ = m.start()
        _ = m.listed(resourceVersion: resourceVersion, at: t0)
        _ = m.watchOpened(at: t0)
        return m
    }

    @Test func listThenWatchFromTheListedVersion() {
        var m = Self.machine()
        #expect(m.start() == .list)
        #expect(m.state == .listing)
        #expect(m.listed(resourceVersion: "10", at: Self.t0) == .init(contact: nil, next: .watch(from: "10")))
        #expect(m.state == .watching(from: "10"))
        #expect(m.watchOpened(at: Self.t0) == .init(contact: nil, next: .keepWatching))
        #expect(m.stats.lists == 1)
        #expect(m.stats.watches == 1)
        var unversioned = Self.machine()
        _ = unversioned.start()
        #expect(unversioned.listed(resourceVersion: nil, at: Self.t0).next == .watch(from: ""), "a list without a version")
    }

    /// Events and bookmarks move the resume point; an event without a version does not; the
    /// watch that ends resumes from the last version seen.
    @Test func eventsAndBookmarksMoveTheResumePoint() {
        var m = Self.watching(from: "10")
        #expect(m.received(resourceVersion: "11", replayed: false, at: Self.at(1)) == .init(contact: nil, next: .keepWatching))
        #expect(m.received(resourceVersion: "15", replayed: false, at: Self.at(2)).next == .keepWatching, "a bookmark")
        #expect(m.received(resourceVersion: nil, replayed: false, at: Self.at(3)).next == .keepWatching)
        #expect(m.received(resourceVersion: "", replayed: false, at: Self.at(4)).next == .keepWatching)
        #expect(m.state == .watching(from: "15"))
        #expect(m.watchEnded() == .init(contact: nil, next: .watch(from: "15")))
        #expect(m.received(resourceVersion: "14", replayed: true, at: Self.at(5)).next == .keepWatching)
        #expect(m.stats.events == 5)
        #expect(m.stats.replayedEvents == 1)
        #expect(m.stats.watches == 2)
        #expect(m.stats.lists == 1, "resumed, never relisted")
    }

    /// 410 Gone, at the watch's request or as an ERROR event, and any other ERROR event lead to
    /// a relist at once, without backoff.
    @Test func goneAndErrorEventsRelist() {
        var m = Self.watching()
        #expect(m.watchExpired(at: Self.at(1)) == .init(contact: nil, next: .list))
        #expect(m.state == .listing)
        #expect(m.listed(resourceVersion: "20", at: Self.at(2)).next == .watch(from: "20"))
        #expect(m.receivedError(code: 410, at: Self.at(3)) == .init(contact: nil, next: .list))
        #expect(m.listed(resourceVersion: "30", at: Self.at(4)).next == .watch(from: "30"))
        #expect(m.receivedError(code: 500, at: Self.at(5)).next == .list)
        let stats = m.stats
        #expect(stats.relistsAfterGone == 2)
        #expect(stats.relistsAfterError == 1)
        #expect(stats.lists == 3)
        #expect(stats.events == 0, "ERROR events are not counted as events")
        #expect(stats.reconnects == 0)
    }

    /// Each failure doubles the backoff up to the cap (the delay is drawn from the upper half);
    /// an event or a bookmark starts it over. A list that succeeds does not.
    @Test func backoffGrowsOnFailuresAndResetsAfterAnEvent() {
        var m = Self.machine()
        _ = m.start()
        let ceilings: [Duration] = [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1),
        ]
        for (i, ceiling) in ceilings.enumerated() {
            let action = m.listFailed(Self.forbidden, at: Self.at(Double(i)))
            let delay = Self.delay(action)
            #expect(delay.map { $0 >= ceiling / 2 && $0 <= ceiling } == true, "failure \(i + 1): \(String(describing: delay))")
            if let delay {
                #expect(m.state == .waiting(until: Self.at(Double(i)) + Self.seconds(delay), resumingFrom: nil), "lists again")
            }
            #expect(m.sleepEnded() == .list)
        }
        #expect(m.stats.lastError?.contains("403") == true)
        #expect(m.listed(resourceVersion: "10", at: Self.at(10)).next == .watch(from: "10"))
        #expect(m.watchOpened(at: Self.at(10)).next == .keepWatching)
        let afterList = Self.delay(m.watchFailed(Self.unreachable, at: Self.at(11)))
        #expect(
            afterList.map { $0 >= .milliseconds(500) } == true,
            "a list alone resets nothing: \(String(describing: afterList))")
        #expect(m.sleepEnded() == .watch(from: "10"), "a dropped watch resumes from its version")
        _ = m.watchOpened(at: Self.at(12))
        _ = m.received(resourceVersion: "11", replayed: false, at: Self.at(13))
        let afterEvent = Self.delay(m.watchFailed(Self.unreachable, at: Self.at(14)))
        #expect(
            afterEvent.map { $0 >= .milliseconds(50) && $0 <= .milliseconds(100) } == true,
            "the backoff starts over after an event: \(String(describing: afterEvent))")
        #expect(m.sleepEnded() == .watch(from: "11"))
        #expect(m.stats.reconnects == 2)
        #expect(m.stats.lastError?.contains("connection refused") == true)
    }

    /// A watch that brings nothing for longer than the bound is cut, measured from the last
    /// answer, and resumed at once from the same version; that is no loss of contact.
    @Test func aSilentWatchIsCutAndResumed() {
        var m = Self.watching(from: "10")
        #expect(m.silenceCheckInterval == .milliseconds(2500))
        #expect(m.checkSilence(at: Self.at(9)) == .none)
        _ = m.received(resourceVersion: "12", replayed: false, at: Self.at(9.5))
        #expect(m.checkSilence(at: Self.at(10.5)) == .none, "measured from the last event")
        #expect(m.checkSilence(at: Self.at(19.5)) == .none, "silent for exactly the bound")
        #expect(m.checkSilence(at: Self.at(20)) == .cutWatch)
        #expect(m.watchCutForSilence() == .init(contact: nil, next: .watch(from: "12")))
        #expect(m.contact.state == .inContact)
        #expect(m.stats.silentWatches == 1)
        #expect(m.stats.reconnects == 1)
        var listing = Self.machine()
        _ = listing.start()
        _ = listing.listFailed(Self.unreachable, at: Self.t0)
        #expect(listing.checkSilence(at: Self.at(1000)) == .none, "no watch to cut")
    }

    /// Contact is lost at the first failure after an answer and restored at the next answer,
    /// each reported once, however many retries fail in between.
    @Test func contactLostAndRestoredAreReportedOnce() {
        var m = Self.machine()
        _ = m.start()
        #expect(m.listFailed(Self.unreachable, at: Self.t0).contact == .lost, "a first list that fails is reported")
        _ = m.sleepEnded()
        #expect(m.listed(resourceVersion: "10", at: Self.at(1)).contact == .restored(outage: 1), "and so is its success after it")
        #expect(m.watchOpened(at: Self.at(1)).contact == nil)
        #expect(m.received(resourceVersion: "11", replayed: false, at: Self.at(5)).contact == nil)
        var reports: [Contact.Transition] = []
        var t: TimeInterval = 20
        if let report = m.watchFailed(Self.unreachable, at: Self.at(t)).contact { reports.append(report) }
        for _ in 0..<5 {
            #expect(m.sleepEnded() == .watch(from: "11"))
            t += 2
            if let report = m.watchFailed(Self.unreachable, at: Self.at(t)).contact { reports.append(report) }
        }
        #expect(m.contact.state == .lost(since: Self.at(20)))
        _ = m.sleepEnded()
        if let report = m.watchOpened(at: Self.at(65)).contact { reports.append(report) }
        if let report = m.received(resourceVersion: "12", replayed: false, at: Self.at(66)).contact { reports.append(report) }
        #expect(reports == [.lost, .restored(outage: 60)], "outage counted from the last answer, at 5 s")
        #expect(m.contact.state == .inContact)
    }

    /// A first list the API server refuses is reported once, with its reason kept for /readyz
    /// and counted by kind; a failure of another kind in the same outage is reported again; the
    /// answer that ends it clears the reason.
    @Test func aRefusedFirstListIsReportedOnceWithItsReason() {
        var m = Self.machine()
        _ = m.start()
        var reported: [Bool] = []
        for i in 0..<3 {
            reported.append(m.listFailed(Self.forbidden, at: Self.at(Double(i))).reportFailure)
            #expect(m.sleepEnded() == .list)
        }
        #expect(m.failure?.contains("HTTP 403") == true, "\(String(describing: m.failure))")
        reported.append(m.listFailed(Self.unreachable, at: Self.at(3)).reportFailure)
        _ = m.sleepEnded()
        reported.append(m.listFailed(Self.unreachable, at: Self.at(4)).reportFailure)
        _ = m.sleepEnded()
        #expect(reported == [true, false, false, true, false])
        #expect(m.stats.failures == ["HTTP 403": 3, "unreachable": 2])
        #expect(m.failure?.contains("connection refused") == true)
        #expect(m.listed(resourceVersion: "10", at: Self.at(5)).contact == .restored(outage: 5))
        #expect(m.failure == nil)
        _ = m.watchOpened(at: Self.at(5))
        #expect(m.watchFailed(Self.forbidden, at: Self.at(6)).reportFailure, "a new outage is reported again")
    }

    /// 410 Gone is an answer: it restores contact like any other.
    @Test func goneIsAnAnswer() {
        var m = Self.watching()
        #expect(m.watchFailed(Self.unreachable, at: Self.at(1)).contact == .lost)
        _ = m.sleepEnded()
        #expect(m.watchExpired(at: Self.at(4)) == .init(contact: .restored(outage: 4), next: .list))
    }

    /// A resource the cluster does not serve is an answer too: it is listed again after a
    /// minute, and the backoff does not grow.
    @Test func aResourceNotServedIsListedAgainAfterAMinute() {
        var m = Self.machine()
        _ = m.start()
        #expect(m.listFoundNoResource(at: Self.t0) == .init(contact: nil, next: .sleep(.seconds(60))))
        #expect(m.state == .waiting(until: Self.at(60), resumingFrom: nil))
        #expect(m.sleepEnded() == .list)
        #expect(m.contact.state == .inContact)
        let delay = Self.delay(m.listFailed(Self.forbidden, at: Self.at(61)))
        #expect(delay.map { $0 <= .milliseconds(100) } == true, "the first failure's delay: \(String(describing: delay))")
        #expect(m.stats.lists == 0)
    }
}
