import Controllers
import Foundation
import JSON
import KubeClient
import KubeTestServer
import Logging
import NIOCore
import Synchronization
import TestSupport
import Testing
import WebhookServer

@Suite("Leader election over a coordination.k8s.io/v1 Lease")
struct LeaderElectionTests {
    static let t0 = Date(timeIntervalSince1970: 1_796_000_000)
    static let timings = LeaseTimings(leaseDuration: 15, renewDeadline: 10, retryPeriod: 2)

    @Test func aCandidateCreatesTakesOverExpiredLeasesAndRenews() throws {
        var a = LeaseCandidate(identity: "a", timings: Self.timings)
        guard case .create(let created) = a.next(current: nil, now: Self.t0) else {
            Issue.record("no create")
            return
        }
        #expect(created.holderIdentity == "a" && created.leaseDurationSeconds == 15 && created.leaseTransitions == 0)
        a.wrote(created, at: Self.t0)
        #expect(a.isLeader(at: Self.t0.addingTimeInterval(9)))
        #expect(!a.isLeader(at: Self.t0.addingTimeInterval(10)), "not renewed within the renew deadline: no longer acting")

        // b sees a's lease and waits a whole lease duration on its own clock from when it saw it.
        var b = LeaseCandidate(identity: "b", timings: Self.timings)
        #expect(b.next(current: created, now: Self.t0.addingTimeInterval(100)) == .wait(holder: "a"))
        #expect(b.next(current: created, now: Self.t0.addingTimeInterval(114)) == .wait(holder: "a"))
        #expect(!b.isLeader(at: Self.t0.addingTimeInterval(114)))
        #expect(b.someoneLeads(at: Self.t0.addingTimeInterval(114)), "a's lease is live as far as b knows")
        #expect(!b.someoneLeads(at: Self.t0.addingTimeInterval(116)), "unrenewed for a lease duration: no one leads")
        #expect(!LeaseCandidate(identity: "c", timings: Self.timings).someoneLeads(at: Self.t0), "never read: no one known")
        guard case .update(let taken) = b.next(current: created, now: Self.t0.addingTimeInterval(115)) else {
            Issue.record("b did not take the expired lease over")
            return
        }
        #expect(taken.holderIdentity == "b" && taken.leaseTransitions == 1 && taken.acquireTime == taken.renewTime)

        // A renewal keeps the acquire time and the transitions.
        b.wrote(taken, at: Self.t0.addingTimeInterval(115))
        guard case .update(let renewed) = b.next(current: taken, now: Self.t0.addingTimeInterval(117)) else {
            Issue.record("b did not renew")
            return
        }
        #expect(renewed.acquireTime == taken.acquireTime && renewed.leaseTransitions == 1 && renewed.renewTime != taken.renewTime)

        // A changed record restarts the wait: a renewing holder is never taken over.
        #expect(a.next(current: taken, now: Self.t0.addingTimeInterval(116)) == .wait(holder: "b"))
        #expect(a.next(current: renewed, now: Self.t0.addingTimeInterval(130)) == .wait(holder: "b"))

        // Released: taken at once.
        let released = try #require(b.release(of: renewed, now: Self.t0.addingTimeInterval(118)))
        #expect(released.holderIdentity == nil && released.leaseDurationSeconds == 1)
        guard case .update(let next) = a.next(current: released, now: Self.t0.addingTimeInterval(118)) else {
            Issue.record("a released lease was not taken")
            return
        }
        #expect(next.holderIdentity == "a" && next.leaseTransitions == 2)
        #expect(LeaseTimings().problem == nil && LeaseTimings(leaseDuration: 5, renewDeadline: 5, retryPeriod: 1).problem != nil)
    }

    static func elector(_ api: FakeAPIServer, _ client: KubeAPIClient, _ identity: String, _ changes: Lines? = nil) -> LeaderElector {
        LeaderElector(
            client: client, namespace: "locus-system", name: "locus", identity: identity,
            timings: LeaseTimings(leaseDuration: 4, renewDeadline: 3, retryPeriod: 0.3), logger: Logger(label: "test"),
            onChange: { leader in changes?.append("\(identity) \(leader)") })
    }

    static func holder(_ client: KubeAPIClient) async -> String? {
        try? await client.get(Lease.self, .leases, namespace: "locus-system", name: "locus").spec?.holderIdentity
    }

    /// Two replicas against the in-process API server: one leads, renews, and hands over on
    /// stopping; a lease left by a replica that died is taken over after its duration.
    @Test func oneOfTwoReplicasLeadsAndTheOtherTakesOver() async throws {
        let api = try await FakeAPIServer.start()
        api.serve(Resource.leases.path(), kind: "Lease")
        let changes = Lines()
        let client = try KubeAPIClient(config: api.kubeConfig(token: "t"), requestTimeout: .seconds(2))
        let a = Self.elector(api, client, "replica-a", changes)
        let b = Self.elector(api, client, "replica-b", changes)
        let runA = Task { await a.run() }
        try await Task.sleep(for: .milliseconds(300))
        let runB = Task { await b.run() }
        #expect(await eventually(timeout: .seconds(5)) { a.isLeader })
        try await Task.sleep(for: .seconds(3))
        #expect(!changes.all.contains("replica-b true"), "b waits while a renews: \(changes.all)")
        #expect(await Self.holder(client) == "replica-a")
        let writes = api.requests.filter { $0.method == "PUT" && $0.path.hasSuffix("/leases/locus") }.count
        #expect(writes >= 2, "a renews (\(writes) writes in 3 s at a retry period of 0.3 s)")

        runA.cancel()
        _ = await runA.value
        #expect(await eventually(timeout: .seconds(3)) { b.isLeader }, "the released lease is taken at once, not after 4 s")
        #expect(!a.isLeader)
        #expect(await Self.holder(client) == "replica-b")
        runB.cancel()
        _ = await runB.value

        // A replica that died holding the lease (no release): taken over after the lease duration.
        let lease: JSONValueLease = .init(holder: "replica-dead")
        api.apply(Resource.leases.path(), kind: "Lease", lease.json)
        let c = Self.elector(api, client, "replica-c")
        let started = Date()
        let runC = Task { await c.run() }
        #expect(await eventually(timeout: .seconds(10)) { c.isLeader })
        #expect(Date().timeIntervalSince(started) >= 3.9, "not before the lease duration")
        let taken = try await client.get(Lease.self, .leases, namespace: "locus-system", name: "locus")
        #expect(taken.spec?.holderIdentity == "replica-c" && (taken.spec?.leaseTransitions ?? 0) >= 1)
        runC.cancel()
        _ = await runC.value
        #expect(changes.all.starts(with: ["replica-a true"]))
        #expect(changes.all.contains("replica-b true"))
        await client.shutdown()
        await api.stop()
    }
}

extension LeaderElectionTests {
    /// A refused Lease (no warm-up RBAC) is said once at warning, not every retry period, and
    /// once more, at notice, when it answers again.
    @Test func aRefusedLeaseIsSaidOnce() async throws {
        let api = try await FakeAPIServer.start()
        api.serve(Resource.leases.path(), kind: "Lease")
        api.forbid(Resource.leases.path(), verb: "get")
        let lines = Lines()
        let logger = Logger(label: "test") { label in
            var h = JSONLogHandler(label: label) { lines.append($0) }
            h.logLevel = .info
            return h
        }
        let client = try KubeAPIClient(config: api.kubeConfig(token: "t"), requestTimeout: .seconds(2))
        let elector = LeaderElector(
            client: client, namespace: "locus-system", name: "locus", identity: "a",
            timings: LeaseTimings(leaseDuration: 4, renewDeadline: 3, retryPeriod: 0.2), logger: logger)
        let run = Task { await elector.run() }
        #expect(await eventually { api.requests.filter { $0.path.hasSuffix("/leases/locus") }.count >= 5 })
        let refused = lines.all.filter { $0.contains("cannot read the leader lease") }
        #expect(refused.count == 1 && refused[0].contains(#""level":"warning""#) && refused[0].contains("403"), "\(lines.all)")
        #expect(!elector.isLeader && !elector.someoneLeads)
        api.allow(Resource.leases.path())
        #expect(await eventually { elector.isLeader })
        #expect(lines.all.contains { $0.contains("leader lease: succeeds again") })
        run.cancel()
        await run.value
        await client.shutdown()
        await api.stop()
    }
}

/// A Lease as a replica that stopped renewing left it.
struct JSONValueLease {
    let holder: String
    var json: JSON.JSONValue {
        [
            "apiVersion": "coordination.k8s.io/v1",
            "metadata": ["name": "locus", "namespace": "locus-system"],
            "spec": [
                "holderIdentity": .string(holder), "leaseDurationSeconds": 1, "acquireTime": .string(KubeTime.microTime(Date())),
                "renewTime": .string(KubeTime.microTime(Date())), "leaseTransitions": 0,
            ],
        ]
    }
}
