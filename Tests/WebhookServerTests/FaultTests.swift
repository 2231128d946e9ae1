import AsyncHTTPClient
import Foundation
import JSON
import KubeClient
import KubeTestServer
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import TestSupport
import Testing

@testable import WebhookServer

/// A TLS connection that sends raw bytes, to play a client that trickles its request.
enum RawTLS {
    /// Connects, runs `writer` (which may trickle bytes) until the server closes the connection;
    /// returns how long the connection lived after `writer` started.
    static func timeUntilClosed(
        port: Int, caPEM: String, limit: Duration,
        _ writer: @escaping @Sendable (NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> Void
    ) async throws -> Duration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let start = ContinuousClock.now
        return try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Duration?.self) { group in
                group.addTask {
                    do { for try await _ in inbound {} } catch {}
                    return ContinuousClock.now - start
                }
                group.addTask {
                    try? await writer(outbound)
                    try await Task.sleep(for: limit)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first ?? limit
            }
        }
    }
}

/// A shared integer for tasks (an `Atomic` cannot be captured by an escaping closure).
final class SharedInt: Sendable {
    let value = Atomic<Int>(0)
    func get() -> Int { value.load(ordering: .relaxed) }
    func set(_ v: Int) { value.store(v, ordering: .relaxed) }
    func increment() { value.add(1, ordering: .relaxed) }
}

@Suite("Faults: slow clients, connection floods, the API server going away", .serialized)
struct FaultTests {
    static func metric(_ name: String, _ locus: RunningLocus) async throws -> Double {
        let client = try makeClient(caPEM: locus.certs.caCertificatePEM)
        defer { Task { try? await client.shutdown() } }
        let r = try await client.execute(HTTPClientRequest(url: "\(locus.url)/metrics"), timeout: .seconds(5))
        let text = String(buffer: try await r.body.collect(upTo: 1 << 20))
        return text.split(separator: "\n").filter { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    /// A head or a body that trickles in is cut off at its deadline; a keep-alive connection
    /// idle between requests is not (that is the idle timeout's job).
    @Test func slowRequestsAreCutOffButIdleKeepAliveIsNot() async throws {
        let locus = try await RunningLocus.start {
            $0.requestHeaderTimeoutSeconds = 1
            $0.requestBodyTimeoutSeconds = 1
        }
        let ca = locus.certs.caCertificatePEM
        // Slowloris: a header line every 200 ms, never the blank line that ends the head.
        let slowHead = try await RawTLS.timeUntilClosed(port: locus.port, caPEM: ca, limit: .seconds(8)) { out in
            try await out.write(ByteBuffer(string: "POST /mutate HTTP/1.1\r\nHost: localhost\r\n"))
            for i in 0..<40 {
                try await Task.sleep(for: .milliseconds(200))
                try await out.write(ByteBuffer(string: "X-Slow-\(i): a\r\n"))
            }
        }
        #expect(slowHead < .seconds(4), "closed at its head deadline, not left open: \(slowHead)")
        // A body announced as 100 KB that arrives 10 bytes every 200 ms.
        let slowBody = try await RawTLS.timeUntilClosed(port: locus.port, caPEM: ca, limit: .seconds(8)) { out in
            try await out.write(
                ByteBuffer(
                    string: "POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"))
            for _ in 0..<40 {
                try await Task.sleep(for: .milliseconds(200))
                try await out.write(ByteBuffer(string: "          "))
            }
        }
        #expect(slowBody < .seconds(4), "closed at its body deadline: \(slowBody)")
        // A connection that never starts its TLS handshake.
        let silent = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: locus.port)
            .get()
        let opened = ContinuousClock.now
        try await silent.closeFuture.get()
        #expect(ContinuousClock.now - opened < .seconds(4), "closed at the first head's deadline")
        // Idle between requests for longer than both deadlines: still served.
        let statuses = try await SingleConnection.with(port: locus.port, caPEM: [ca]) { c in
            let first = try await c.request(.GET, "/healthz").status
            try await Task.sleep(for: .milliseconds(1600))
            let second = try await c.request(.GET, "/healthz").status
            // A request sent in pieces that each arrive in time is served too.
            let review = admissionReview(pod: makePod(claims: ["imagenet"]))
            let third = try await c.request(.POST, "/mutate", body: review, slowBody: (chunks: 3, pause: .milliseconds(200))).status
            return [first, second, third]
        }
        #expect(statuses == [200, 200, 200])
        // Busy for longer than both deadlines, each request on time: never cut off. Each body
        // arrives in pieces over 300 ms, back to back, so the deadline timer (armed at the first
        // request) fires in the middle of a request and must follow the later deadline, not close.
        let busy = try await SingleConnection.with(port: locus.port, caPEM: [ca]) { c in
            var codes: Set<Int> = []
            let start = ContinuousClock.now
            let review = admissionReview(pod: makePod(claims: ["imagenet"]))
            while ContinuousClock.now - start < .milliseconds(2500) {
                codes.insert(try await c.request(.POST, "/mutate", body: review, slowBody: (chunks: 3, pause: .milliseconds(150))).status)
            }
            return codes
        }
        #expect(busy == [200])
        // …and after such a busy spell, a head that then trickles is still cut off at its deadline.
        let lateSlowHead = try await RawTLS.timeUntilClosed(port: locus.port, caPEM: ca, limit: .seconds(10)) { out in
            let review = String(decoding: admissionReview(pod: makePod(claims: ["imagenet"])), as: UTF8.self)
            for _ in 0..<15 {
                try await out.write(
                    ByteBuffer(
                        string:
                            "POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                            + "\(review.utf8.count)\r\n\r\n\(review)"
                    ))
                try await Task.sleep(for: .milliseconds(100))
            }
            try await out.write(ByteBuffer(string: "POST /mutate HTTP/1.1\r\nHost: localhost\r\n"))
            for i in 0..<40 {
                try await Task.sleep(for: .milliseconds(200))
                try await out.write(ByteBuffer(string: "X-Slow-\(i): a\r\n"))
            }
        }
        #expect(
            lateSlowHead > .milliseconds(1500) && lateSlowHead < .milliseconds(4500),
            "closed about 1 s after the trickle began: \(lateSlowHead)")
        #expect(try await Self.metric("locus_http_slow_requests_closed_count", locus) == 4)
        await locus.stop()
    }

    /// A keep-alive connection idle for `idleTimeoutSeconds` after its last answer is closed,
    /// whether that answer came from the event loop (a review) or from the router (a health
    /// check); one that keeps sending reviews for longer is not, and is not counted as slow.
    @Test func idleConnectionsAreClosedAtTheIdleTimeout() async throws {
        let locus = try await RunningLocus.start { $0.idleTimeoutSeconds = 1 }
        let ca = locus.certs.caCertificatePEM
        let review = String(decoding: admissionReview(pod: makePod(claims: ["imagenet"])), as: UTF8.self)
        let post = "POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(review.utf8.count)\r\n\r\n\(review)"
        for request in [post, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"] {
            let idle = try await RawTLS.timeUntilClosed(port: locus.port, caPEM: ca, limit: .seconds(8)) { out in
                try await out.write(ByteBuffer(string: request))
            }
            #expect(idle > .milliseconds(900) && idle < .milliseconds(3000), "closed about 1 s after the answer: \(idle)")
        }
        // Reviews back to back for 2.5 s, 100 ms apart, then idle: closed only after the last one.
        let busy = try await RawTLS.timeUntilClosed(port: locus.port, caPEM: ca, limit: .seconds(8)) { out in
            for _ in 0..<25 {
                try await out.write(ByteBuffer(string: post))
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(busy > .milliseconds(3300) && busy < .milliseconds(5500), "closed about 1 s after the last review: \(busy)")
        #expect(try await Self.metric("locus_http_slow_requests_closed_count", locus) == 0)
        await locus.stop()
    }

    /// Past `maxConnections` new connections wait (they are not accepted) until one closes;
    /// the open ones keep being served.
    @Test func aConnectionFloodWaitsAtTheLimit() async throws {
        let locus = try await RunningLocus.start { $0.maxConnections = 3 }
        let ca = locus.certs.caCertificatePEM
        let release = SharedInt()
        var holders: [Task<Int, any Error>] = []
        for i in 0..<2 {  // with the metrics client below that makes three
            let served = SharedInt()
            holders.append(
                Task {
                    try await SingleConnection.with(port: locus.port, caPEM: [ca]) { c in
                        let s = try await c.request(.GET, "/healthz").status
                        served.increment()
                        while release.get() <= i { try await Task.sleep(for: .milliseconds(20)) }
                        return s
                    }
                })
            #expect(await eventually { served.get() == 1 })
        }
        let metricsClient = try makeClient(caPEM: ca)
        let r = try await metricsClient.execute(HTTPClientRequest(url: "\(locus.url)/healthz"), timeout: .seconds(5))
        #expect(r.status == .ok)  // its keep-alive connection is the third
        let answered = SharedInt()
        let fourth = Task {
            let s = try await SingleConnection.with(port: locus.port, caPEM: [ca]) { c in try await c.request(.GET, "/healthz").status }
            answered.set(1)
            return s
        }
        try await Task.sleep(for: .milliseconds(1500))
        #expect(answered.get() == 0, "the fourth connection waits while three are open")
        let again = try await metricsClient.execute(HTTPClientRequest(url: "\(locus.url)/readyz"), timeout: .seconds(5))
        #expect(again.status == .ok, "open connections are still served")
        release.set(1)  // the first holder closes its connection
        #expect(try await fourth.value == 200, "and then it is served")
        release.set(2)
        for h in holders { #expect(try await h.value == 200) }
        let text = String(
            buffer: try await metricsClient.execute(HTTPClientRequest(url: "\(locus.url)/metrics"), timeout: .seconds(5)).body.collect(
                upTo: 1 << 20))
        #expect(
            text.contains("locus_http_connection_limit_reached_count") && !text.contains("locus_http_connection_limit_reached_count 0"),
            "\(text)")
        try await metricsClient.shutdown()
        await locus.stop()
    }

    /// The JSON lines a `capturingLogger` wrote.
    /// A logger of the informers' label whose JSON lines (info and above) are kept.
    static func capturingLogger() -> (Logger, Lines) {
        let lines = Lines()
        let logger = Logger(label: "locus.informer") { label in
            var h = JSONLogHandler(label: label) { line in lines.append(line) }
            h.logLevel = .info
            return h
        }
        return (logger, lines)
    }

    /// The API server holding the example cluster, a client for it, and informers (not started).
    static func exampleCluster() async throws -> (FakeAPIServer, KubeAPIClient, LiveCluster) {
        let api = try await FakeAPIServer.start()
        try seedExample(api)
        let kube = try KubeAPIClient(config: api.kubeConfig(token: "t"), requestTimeout: .seconds(2))
        return (api, kube, LiveCluster(client: kube, cache: ClusterCache(), logger: .init(label: "test")))
    }

    /// Every informer holds its own watch at once (16 with every Fluid runtime kind served): none
    /// waits for a connection another watch holds.
    @Test func everyInformerWatchesAtOnce() async throws {
        let (api, kube, live) = try await Self.exampleCluster()
        let run = Task { await live.run() }
        let informers = live.syncState.count
        #expect(informers == 16)
        #expect(await eventually(timeout: .seconds(10)) { api.openWatches == informers }, "\(api.openWatches) of \(informers) watches open")
        // An event for the last collection to be watched still arrives at once.
        api.apply(Resource.nodes.path(), kind: "Node", ["metadata": ["name": "node-z"]])
        #expect(await eventually(timeout: .seconds(3)) { live.cache.nodes.get(namespace: nil, name: "node-z") != nil })
        run.cancel()
        await kube.shutdown()
        await api.stop()
    }

    /// Only Fluid's FUSE DaemonSets are cached: the informer asks for `role in (…-fuse)`, and a
    /// FUSE DaemonSet that appears later, changes or goes reaches the cache while other
    /// DaemonSets never do.
    @Test func onlyFluidsFuseDaemonSetsAreWatched() async throws {
        let (api, kube, live) = try await Self.exampleCluster()
        let path = Resource.daemonSets.path()
        api.apply(
            path, kind: "DaemonSet", ["metadata": ["name": "kube-proxy", "namespace": "kube-system", "labels": ["k8s-app": "kube-proxy"]]])
        let run = Task { await live.run() }
        #expect(await eventually(timeout: .seconds(10)) { live.hasSynced })
        #expect(Set(live.cache.daemonSets.keys) == ["ml/imagenet-fuse", "ml/llama-weights-fuse"])
        api.apply(path, kind: "DaemonSet", ["metadata": ["name": "jfs-fuse", "namespace": "team", "labels": ["role": "juicefs-fuse"]]])
        api.apply(
            path, kind: "DaemonSet", ["metadata": ["name": "node-exporter", "namespace": "monitoring", "labels": ["app": "node-exporter"]]])
        _ = api.delete(path, kind: "DaemonSet", namespace: "ml", name: "imagenet-fuse")
        #expect(await eventually(timeout: .seconds(5)) { Set(live.cache.daemonSets.keys) == ["ml/llama-weights-fuse", "team/jfs-fuse"] })
        #expect(live.cache.daemonSets.get(namespace: "monitoring", name: "node-exporter") == nil)
        #expect(api.requests.contains { $0.path == path && $0.query["labelSelector"] == LiveCluster.fuseDaemonSetSelector })
        run.cancel()
        await kube.shutdown()
        await api.stop()
    }

    /// The API server goes silent (a partition or a frozen server: connections stay open, nothing
    /// answers, nothing is closed) for longer than the informers' silence bound, then comes back.
    /// Each informer logs the loss once and the return once, the metrics show the seconds since
    /// contact and the resumed watches, `/readyz` says the state is stale, and a change made
    /// after the return reaches the cache.
    @Test func silentAPIServerIsNoticedReportedAndRecoveredFrom() async throws {
        let api = try await FakeAPIServer.start()
        try seedExample(api)
        let kube = try KubeAPIClient(config: api.kubeConfig(token: "t"), requestTimeout: .seconds(2))
        let (logger, lines) = Self.capturingLogger()
        // kube-apiserver sends a bookmark about once a minute on a quiet watch; here, twice a second.
        api.sendBookmarks(every: .milliseconds(500))
        let live = LiveCluster(
            client: kube, cache: ClusterCache(), silenceBound: .seconds(2), backoff: Backoff(base: .milliseconds(100), cap: .seconds(1)),
            logger: logger)
        let locus = try await RunningLocus.start(backend: .live(live))
        let client = try makeClient(caPEM: locus.certs.caCertificatePEM)
        func get(_ path: String) async throws -> (Int, String) {
            let r = try await client.execute(HTTPClientRequest(url: "\(locus.url)\(path)"), timeout: .seconds(5))
            return (Int(r.status.code), String(buffer: try await r.body.collect(upTo: 1 << 20)))
        }
        func logged(_ text: String) -> [String] { lines.all.filter { $0.contains(text) } }
        #expect(await eventually(timeout: .seconds(15)) { (try? await get("/readyz"))?.0 == 200 })
        let informers = live.syncState.count
        #expect(await eventually(timeout: .seconds(10)) { api.openWatches == informers })

        await api.goAway()
        #expect(
            await eventually(timeout: .seconds(15)) { logged("lost contact with the API server").count == informers },
            "\(logged("lost contact").count) of \(informers) informers reported the loss")
        // Longer than the bound again: retries keep failing, and nothing more is logged at warning level.
        try await Task.sleep(for: .seconds(4))
        #expect(logged("lost contact with the API server").count == informers, "one warning per resource, not one per retry")
        #expect(
            Set(
                logged("lost contact").compactMap { line in
                    line.range(of: #""resource":"[^"]+""#, options: .regularExpression).map { String(line[$0]) }
                }
            ).count == informers)
        #expect(live.stats.allSatisfy { $0.stats.reconnects > 0 } || live.stats.allSatisfy { $0.stats.lastError != nil })
        #expect(live.stats.contains { $0.stats.silentWatches > 0 }, "watches with no FIN are cut by the silence bound")
        let (_, metrics) = try await get("/metrics")
        let since = metrics.split(separator: "\n").first {
            $0.hasPrefix(#"locus_informer_seconds_since_contact_seconds{resource="nodes"}"#)
        }
        let seconds = since.flatMap { $0.split(separator: " ").last.flatMap { Double($0) } } ?? -1
        #expect(seconds >= 4, "\(since ?? "no seconds-since-contact gauge for nodes")")
        #expect(metrics.contains(#"locus_informer_contact_bool{resource="nodes"} 0"#), "\(metrics)")
        let (status, ready) = try await get("/readyz")
        #expect(status == 200 && ready.contains("serving cached cluster state") && ready.contains("nodes ("), "\(ready)")

        try await api.comeBack()
        #expect(
            await eventually(timeout: .seconds(20)) { logged("contact with the API server restored").count == informers },
            "\(logged("restored").count) of \(informers) informers reported the return")
        api.apply(Resource.nodes.path(), kind: "Node", ["metadata": ["name": "node-after-outage"]])
        #expect(await eventually(timeout: .seconds(10)) { live.cache.nodes.get(namespace: nil, name: "node-after-outage") != nil })
        #expect(live.contacts.allSatisfy { $0.contact.state == .inContact })
        // Quiet watches stay open: the bookmarks keep them within the bound.
        let cut = live.stats.map(\.stats.silentWatches).reduce(0, +)
        try await Task.sleep(for: .seconds(3))
        #expect(live.stats.map(\.stats.silentWatches).reduce(0, +) == cut, "no watch is cut while bookmarks arrive")
        let (_, after) = try await get("/readyz")
        #expect(after == "ready\n")
        let (_, metricsAfter) = try await get("/metrics")
        #expect(metricsAfter.contains(#"locus_informer_contact_bool{resource="nodes"} 1"#))
        try await client.shutdown()
        await locus.stop()
        await kube.shutdown()
        await api.stop()
    }

    /// A first list the API server refuses (RBAC without the DaemonSets rule: an upgrade whose
    /// RBAC was not applied) is said once at warning with the API server's message, /readyz names
    /// the resource and why, a metric counts it, and its end is said once.
    @Test func aRefusedFirstListSaysWhyOnce() async throws {
        let api = try await FakeAPIServer.start()
        try seedExample(api)
        let daemonSets = Resource.daemonSets.path()
        api.forbid(daemonSets)
        let kube = try KubeAPIClient(config: api.kubeConfig(token: "t"), requestTimeout: .seconds(2))
        let (logger, lines) = Self.capturingLogger()
        let live = LiveCluster(
            client: kube, cache: ClusterCache(), backoff: Backoff(base: .milliseconds(50), cap: .milliseconds(200)), logger: logger)
        let locus = try await RunningLocus.start(backend: .live(live))
        let client = try makeClient(caPEM: locus.certs.caCertificatePEM)
        func get(_ path: String) async throws -> (Int, String) {
            let r = try await client.execute(HTTPClientRequest(url: "\(locus.url)\(path)"), timeout: .seconds(5))
            return (Int(r.status.code), String(buffer: try await r.body.collect(upTo: 1 << 20)))
        }
        func warnings(_ text: String) -> [String] {
            lines.all.filter { $0.contains(#""level":"warning""#) && $0.contains(text) }
        }
        #expect(await eventually { (live.status.first { $0.resource == "daemonsets.apps" }?.status.stats.failures["HTTP 403"] ?? 0) >= 5 })
        let message =
            #"daemonsets.apps is forbidden: User \"system:serviceaccount:locus-system:locus\" cannot list resource \"daemonsets\" in "#
            + #"API group \"apps\" at the cluster scope"#
        // Two informers read DaemonSets (Fluid's whole, every one's metadata): each says it once.
        let said = warnings("the first list failed").filter { $0.contains(#""resource":"daemonsets.apps""#) }
        #expect(said.count == 1, "once, not once per retry: \(said)")
        #expect(warnings("the first list failed").count == 2, "\(warnings("the first list failed"))")
        #expect(said.first?.contains(#""resource":"daemonsets.apps""#) == true && said.first?.contains("HTTP 403") == true, "\(said)")
        #expect(said.first?.contains(message) == true, "the API server's own message: \(said)")
        let (status, ready) = try await get("/readyz")
        #expect(status == 503, "\(ready)")
        #expect(ready.contains("daemonsets.apps (failing: GET /apis/apps/v1/daemonsets"), "\(ready)")
        #expect(ready.contains("HTTP 403 Forbidden") && ready.contains(#"cannot list resource "daemonsets""#), "\(ready)")
        let (_, metrics) = try await get("/metrics")
        let failures = metrics.split(separator: "\n").first {
            $0.hasPrefix("locus_informer_failures_count{") && $0.contains(#"resource="daemonsets.apps""#)
                && $0.contains(#"kind="HTTP 403""#)
        }
        #expect((failures?.split(separator: " ").last.flatMap { Double($0) } ?? 0) >= 5, "\(failures ?? "no failure count")")

        api.allow(daemonSets)
        #expect(await eventually(timeout: .seconds(10)) { (try? await get("/readyz"))?.1 == "ready\n" })
        let restored = warnings("contact with the API server restored").filter { $0.contains(#""resource":"daemonsets.apps""#) }
        #expect(restored.count == 1, "\(restored)")
        #expect(warnings("the first list failed").count == 2)
        try await client.shutdown()
        await locus.stop()
        await kube.shutdown()
        await api.stop()
    }

    /// The API server goes away after the caches synced: Locus stays ready and keeps deciding from
    /// its caches; its watches keep trying to come back.
    @Test func theAPIServerGoingAwayLeavesTheCachesServing() async throws {
        let (api, kube, live) = try await Self.exampleCluster()
        let locus = try await RunningLocus.start(backend: .live(live))
        let client = try makeClient(caPEM: locus.certs.caCertificatePEM)
        #expect(
            await eventually(timeout: .seconds(15)) {
                (try? await client.execute(HTTPClientRequest(url: "\(locus.url)/readyz"), timeout: .seconds(2)))?.status == .ok
            })
        await api.stop()
        #expect(await eventually(timeout: .seconds(15)) { live.stats.contains { $0.stats.reconnects > 0 } })
        let ready = try await client.execute(HTTPClientRequest(url: "\(locus.url)/readyz"), timeout: .seconds(5))
        #expect(ready.status == .ok, "synced once: still ready")
        for (file, route, body) in ExampleState.requests {
            var post = HTTPClientRequest(url: "\(locus.url)\(route)")
            post.method = .POST
            post.headers.add(name: "Content-Type", value: "application/json")
            post.body = .bytes(ByteBuffer(string: body))
            let r = try await client.execute(post, timeout: .seconds(5))
            let text = String(buffer: try await r.body.collect(upTo: 1 << 20))
            #expect(r.status == .ok, "\(file)")
            switch route {
            case "/mutate": #expect(text.contains(#""allowed":true"#) && text.contains(#""patchType":"JSONPatch""#), "\(text)")
            case "/filter": #expect(text.contains(#""NodeNames":["node-a","node-b"]"#), "\(text)")
            default: #expect(text.contains(#"{"Host":"node-a","Score":10}"#), "Fluid's status, cached before the API server left: \(text)")
            }
        }
        try await client.shutdown()
        await locus.stop()
        await kube.shutdown()
    }
}

@Suite("Client-certificate authentication of kube-apiserver and kube-scheduler")
struct ClientCertificateTests {
    static func client(caPEM: String, identity: GeneratedCertificates?) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        if let identity {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificatePEM.utf8)).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.keyPEM.utf8), format: .pem))
        }
        var config = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(5), read: .seconds(10)))
        config.httpVersion = .http1Only
        return kept(HTTPClient(eventLoopGroupProvider: .singleton, configuration: config))
    }

    @Test func decidingRoutesRequireACertificateFromTheClientCA() async throws {
        // `locus certs` makes leaves good for client authentication too (serverAuth + clientAuth).
        let apiserver = try CertGenerator.generate(dnsNames: ["kube-apiserver"], ipAddresses: [])
        let stranger = try CertGenerator.generate(dnsNames: ["kube-apiserver"], ipAddresses: [])
        let dir = try TempDir()
        defer { dir.cleanup() }
        try dir.write("client-ca.pem", apiserver.caCertificatePEM)
        let locus = try await RunningLocus.start(backend: .fixed(try exampleCache())) { $0.clientCAFile = dir.file("client-ca.pem") }
        let serverCA = locus.certs.caCertificatePEM
        let review = admissionReview(pod: makePod(claims: ["imagenet"]))
        func post(_ client: HTTPClient, _ path: String) async throws -> (Int, String) {
            var r = HTTPClientRequest(url: "\(locus.url)\(path)")
            r.method = .POST
            r.headers.add(name: "Content-Type", value: "application/json")
            r.body = .bytes(ByteBuffer(bytes: path == "/mutate" ? review : Array(ExampleState.requests[1].body.utf8)))
            let response = try await client.execute(r, timeout: .seconds(5))
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
        }

        let anonymous = try Self.client(caPEM: serverCA, identity: nil)
        for path in ["/mutate", "/filter", "/prioritize"] {
            let (status, body) = try await post(anonymous, path)
            #expect(status == 401 && body.contains("client certificate"), "\(path): \(status) \(body)")
        }
        for path in ["/healthz", "/readyz", "/metrics"] {
            let r = try await anonymous.execute(HTTPClientRequest(url: "\(locus.url)\(path)"), timeout: .seconds(5))
            #expect(r.status == .ok, "\(path) stays open to probes and Prometheus")
        }

        let trusted = try Self.client(caPEM: serverCA, identity: apiserver)
        let (status, body) = try await post(trusted, "/mutate")
        #expect(status == 200 && body.contains(#""allowed":true"#) && body.contains("patch"), "\(body)")
        let (filterStatus, filterBody) = try await post(trusted, "/filter")
        #expect(filterStatus == 200 && filterBody.contains("NodeNames"), "\(filterBody)")

        // A certificate from another CA does not get through the handshake.
        let impostor = try Self.client(caPEM: serverCA, identity: stranger)
        await #expect(throws: (any Error).self) { _ = try await post(impostor, "/mutate") }

        for c in [anonymous, trusted, impostor] { try await c.shutdown() }
        await locus.stop()
    }
}
