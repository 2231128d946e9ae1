import Foundation
import JSON
import KubeTestServer
import Synchronization
import TestSupport
import Testing

@testable import KubeClient

/// Records what an informer reports, in order.
final class EventLog: Sendable {
    let lines = Lines()
    func record(_ e: StoreEvent<Pod>) {
        let line: String
        switch e {
        case .added(let p): line = "ADDED \(p.metadata.name!) \(p.metadata.resourceVersion!)"
        case .updated(_, let p): line = "MODIFIED \(p.metadata.name!) \(p.metadata.resourceVersion!)"
        case .deleted(let p): line = "DELETED \(p.metadata.name!) \(p.metadata.resourceVersion!)"
        }
        lines.append(line)
    }
    var all: [String] { lines.all }
}

func startInformer(
    _ client: KubeAPIClient, namespace: String? = nil, pageSize: Int = 500, optional: Bool = false,
    resource: Resource = .pods
) -> (Informer<Pod>, EventLog, Task<Void, Never>) {
    let informer = Informer<Pod>(
        client: client, resource: resource, namespace: namespace,
        store: Store(indexers: ["claim": { pod in (pod.spec?.volumes ?? []).compactMap { $0.persistentVolumeClaim?.claimName } }]),
        pageSize: pageSize, watchSeconds: 30...30, backoff: Backoff(base: .milliseconds(20), cap: .milliseconds(200)),
        optionalResource: optional)
    let log = EventLog()
    informer.addHandler { log.record($0) }
    let task = Task { await informer.run() }
    return (informer, log, task)
}

@Suite("Informer: list, watch, resume, relist")
struct InformerTests {
    @Test func listsPagesThenWatchesWithIndexes() async throws {
        try await withFakeAPI { server, client in
            for i in 0..<5 { server.apply("/api/v1/pods", kind: "Pod", podJSON("p\(i)", claim: i % 2 == 0 ? "imagenet" : "llama")) }
            let (informer, log, task) = startInformer(client, pageSize: 2)
            defer { task.cancel() }
            #expect(await eventually { informer.hasSynced })
            #expect(informer.store.count == 5)
            #expect(Set(informer.store.byIndex("claim", "imagenet").map { $0.metadata.name! }) == ["p0", "p2", "p4"])
            #expect(informer.store.byIndex(Store<Pod>.namespaceIndex, "ml").count == 5)
            #expect(await eventually { server.openWatches == 1 })
            server.apply("/api/v1/pods", kind: "Pod", podJSON("p1", claim: "imagenet"))
            #expect(await eventually { informer.store.byIndex("claim", "imagenet").count == 4 })
            #expect(informer.store.byIndex("claim", "llama").map { $0.metadata.name! } == ["p3"])
            #expect(log.all.filter { $0.hasPrefix("ADDED") }.count == 5)
            #expect(log.all.last?.hasPrefix("MODIFIED p1") == true)
            #expect(server.requests.filter { $0.query["watch"] == nil }.count == 3, "three list pages")
        }
    }

    /// The watch is cut again and again while objects change; the informer must resume from the
    /// last resourceVersion it saw and report exactly the server's sequence of changes.
    @Test func reconnectingWatchLosesNoEventAndDuplicatesNone() async throws {
        try await withFakeAPI { server, client in
            for i in 0..<3 { server.apply("/api/v1/pods", kind: "Pod", podJSON("seed\(i)")) }
            let (informer, log, task) = startInformer(client)
            defer { task.cancel() }
            #expect(await eventually { informer.hasSynced && server.openWatches == 1 })
            let afterList = server.currentResourceVersion
            let initial = log.all.count

            // Every watch connection now dies after 3 events, and we also cut them at random.
            server.dropWatchesAfter(events: 3)
            for round in 0..<40 {
                let name = "p\(round % 7)"
                switch round % 5 {
                case 4: server.delete("/api/v1/pods", kind: "Pod", namespace: "ml", name: "p\((round + 3) % 7)")
                default: server.apply("/api/v1/pods", kind: "Pod", podJSON(name, extra: .integer(Int64(round))))
                }
                if round % 9 == 0 { server.dropWatches() }
                if round % 6 == 0 { server.bookmark() }
                try await Task.sleep(for: .milliseconds(5))
                // Every 4 changes the test waits for the informer to be watching again. Each window of
                // 4 changes cuts the watch at least once (3 events per connection), so the count of
                // resumes below does not depend on how fast a busy machine lets the informer reconnect.
                if round % 4 == 3 {
                    #expect(await eventually(timeout: .seconds(10)) { server.openWatches == 1 }, "resumed in round \(round)")
                }
            }
            server.dropWatchesAfter(events: nil)
            let expected = server.events("/api/v1/pods", after: afterList)
            let converged = await eventually(timeout: .seconds(20)) { log.all.count - initial >= expected.count }
            let delivered = Array(log.all.dropFirst(initial))
            #expect(converged, "delivered \(delivered.count) of \(expected.count)")
            #expect(delivered == expected)
            #expect(Set(delivered).count == delivered.count, "no duplicates")
            let stats = informer.stats
            #expect(stats.lists == 1, "resumed from resourceVersions, never relisted")
            #expect(stats.replayedEvents == 0, "the server never had to send an event the informer already had")
            #expect(stats.watches > 10, "\(stats.watches) watches")
            // Every resumed watch asked for the version after the last one delivered.
            let resumes = server.requests.filter { $0.query["watch"] != nil }.compactMap { $0.query["resourceVersion"] }
            #expect(resumes.count > 10, "\(resumes.count) resumes")
            #expect(resumes.allSatisfy { Int($0)! >= afterList })
            // The store equals the server's objects.
            let names = Set(informer.store.list().map { $0.metadata.name! })
            let onServer = Set(try await client.listAll(Pod.self, .pods).items.map { $0.metadata.name! })
            #expect(names == onServer)
        }
    }

    @Test func relistsAfter410AndReportsOnlyTheDifference() async throws {
        try await withFakeAPI { server, client in
            for n in ["keep", "change", "remove"] { server.apply("/api/v1/pods", kind: "Pod", podJSON(n)) }
            let (informer, log, task) = startInformer(client)
            defer { task.cancel() }
            #expect(await eventually { informer.hasSynced && server.openWatches == 1 })
            let before = log.all.count
            // The watch fails while history moves on and is compacted: the resume point expires.
            server.blockWatches(true)
            server.dropWatches()
            server.apply("/api/v1/pods", kind: "Pod", podJSON("change", extra: "v2"))
            server.delete("/api/v1/pods", kind: "Pod", namespace: "ml", name: "remove")
            server.apply("/api/v1/pods", kind: "Pod", podJSON("new"))
            server.compact()
            server.blockWatches(false)
            #expect(await eventually { informer.stats.relistsAfterGone == 1 && informer.stats.lists == 2 })
            #expect(await eventually { log.all.count == before + 3 })
            let changes = Set(log.all.dropFirst(before).map { $0.split(separator: " ").prefix(2).joined(separator: " ") })
            #expect(changes == ["MODIFIED change", "DELETED remove", "ADDED new"])
            #expect(Set(informer.store.list().map { $0.metadata.name! }) == ["keep", "change", "new"])
        }
    }

    @Test func relistsAfterAnErrorEvent() async throws {
        try await withFakeAPI { server, client in
            server.apply("/api/v1/pods", kind: "Pod", podJSON("a"))
            let (informer, _, task) = startInformer(client)
            defer { task.cancel() }
            #expect(await eventually { informer.hasSynced && server.openWatches == 1 })
            server.sendErrorEvent(
                code: 500, reason: "InternalError", message: "an error on the server has prevented the request from succeeding")
            #expect(await eventually { informer.stats.relistsAfterError == 1 && informer.stats.lists == 2 })
            #expect(await eventually { server.openWatches == 1 })
            server.apply("/api/v1/pods", kind: "Pod", podJSON("b"))
            #expect(await eventually { informer.store.count == 2 })
        }
    }

    @Test func forbiddenListRetriesWithBackoffUntilAllowed() async throws {
        try await withFakeAPI { server, client in
            server.apply("/api/v1/pods", kind: "Pod", podJSON("a"))
            for _ in 0..<3 {
                server.force(
                    status: 403, reason: "Forbidden",
                    message: "pods is forbidden: User \"system:serviceaccount:locus-system:locus\" cannot list resource \"pods\"")
            }
            let (informer, _, task) = startInformer(client)
            defer { task.cancel() }
            #expect(await eventually { informer.stats.lastError?.contains("403") == true })
            #expect(!informer.hasSynced)
            #expect(await eventually { informer.hasSynced })
            #expect(informer.store.count == 1)
        }
    }

    @Test func expiredTokenIsReportedAndRecoveredFrom() async throws {
        try await withFakeAPI { server, client in
            server.apply("/api/v1/pods", kind: "Pod", podJSON("a"))
            server.setRequiredToken("rotated")
            let (informer, _, task) = startInformer(client)
            defer { task.cancel() }
            #expect(await eventually { informer.stats.lastError?.contains("401") == true })
            #expect(!informer.hasSynced)
            server.setRequiredToken(nil)
            #expect(await eventually { informer.hasSynced })
        }
    }

    @Test func missingCRDCountsAsSyncedAndEmpty() async throws {
        try await withFakeAPI { _, client in
            let (informer, _, task) = startInformer(client, optional: true, resource: .datasets)
            defer { task.cancel() }
            #expect(await eventually { informer.hasSynced })
            #expect(informer.store.count == 0)
        }
    }

    /// Contact is lost once (the first failure, not each retry), silence is measured from the last
    /// answer, and the return reports how long contact was lost.
    @Test func contactStateMachine() {
        var c = Contact()
        let t0 = Date(timeIntervalSince1970: 1_000)
        #expect(c.failed(at: t0) == .lost, "a failure before the first answer is reported too: the first list says why it fails")
        #expect(c.failed(at: t0 + 1) == nil, "once")
        #expect(c.secondsSinceHeard(at: t0) == nil)
        #expect(!c.isSilent(at: t0 + 1_000, bound: 10), "never heard: nothing to be silent after")
        #expect(c.heard(at: t0 + 3) == .restored(outage: 3), "the first answer after failures is said, counted from the first failure")
        #expect(c.state == .inContact)
        var fresh = Contact()
        #expect(fresh.heard(at: t0) == nil, "a first answer without failures restores nothing")
        #expect(c.heard(at: t0) == nil)
        #expect(c.heard(at: t0 + 5) == nil)
        #expect(!c.isSilent(at: t0 + 15, bound: 10))
        #expect(c.isSilent(at: t0 + 15.5, bound: 10))
        #expect(c.failed(at: t0 + 16) == .lost)
        #expect(c.failed(at: t0 + 20) == nil, "retries during the outage report nothing")
        #expect(c.state == .lost(since: t0 + 16))
        #expect(c.secondsSinceHeard(at: t0 + 30) == 25)
        #expect(c.heard(at: t0 + 65) == .restored(outage: 60))
        #expect(c.state == .inContact)
        #expect(c.heard(at: t0 + 66) == nil)
    }

    @Test func backoffIsCappedExponentialWithJitter() {
        var b = Backoff(base: .milliseconds(100), cap: .seconds(1))
        let delays = (0..<8).map { _ in b.next() }
        #expect(delays[0] >= .milliseconds(50) && delays[0] <= .milliseconds(100))
        #expect(delays[2] >= .milliseconds(200) && delays[2] <= .milliseconds(400))
        #expect(delays[7] >= .milliseconds(500) && delays[7] <= .seconds(1))
        b.reset()
        #expect(b.next() <= .milliseconds(100))
        // Jitter: many draws at the same step are not all equal.
        let draws = Set(
            (0..<20).map { _ -> Duration in
                var x = Backoff(base: .seconds(1), cap: .seconds(8))
                return x.next()
            })
        #expect(draws.count > 1)
    }

    @Test func storeReplaceReportsTheDifference() {
        let store = Store<Pod>()
        func pod(_ n: String, _ rv: String) -> Pod {
            Pod(metadata: ObjectMeta(name: n, namespace: "ml", uid: "u-\(n)", resourceVersion: rv), spec: nil, status: nil)
        }
        _ = store.replace(with: [pod("a", "1"), pod("b", "1"), pod("c", "1")])
        #expect(store.upsert(pod("a", "1")) == nil, "a replayed version is not a change")
        let events = store.replace(with: [pod("a", "1"), pod("b", "2"), pod("d", "1")])
        let names = Set(
            events.map { e -> String in
                switch e {
                case .added(let p): "+\(p.metadata.name!)"
                case .updated(_, let p): "~\(p.metadata.name!)"
                case .deleted(let p): "-\(p.metadata.name!)"
                }
            })
        #expect(names == ["~b", "-c", "+d"])
        #expect(store.delete(pod("zz", "1")) == nil)
    }
}
