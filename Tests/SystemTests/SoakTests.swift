import AsyncHTTPClient
import Foundation
import JSON
import KubeClient
import KubeTestServer
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

@testable import WebhookServer

/// `locus serve` against an API server (the in-process fake, holding the example cluster) under
/// steady load on `/mutate` and `/prioritize` from `locus-bench rate` (open loop, every answer
/// parsed, TLS verified, connections renewed so handshakes go on), while the serving certificate
/// is rotated and every watch is dropped twice (the second time after a compaction, so the
/// informers relist after 410 Gone). Nothing may fail and nothing may be malformed.
///
/// CI runs a short, light version; `scripts/soak` runs it for 60 s at the benchmark rates in a
/// release build (`LOCUS_SOAK_SECONDS`, `LOCUS_SOAK_MUTATE_RATE`, `LOCUS_SOAK_PRIORITIZE_RATE`,
/// `LOCUS_SOAK_MUTATE_BODY`, `LOCUS_SOAK_PRIORITIZE_NODES`).
@Suite("Load through certificate rotation and informer reconnects", .serialized)
struct SoakTests {
    static func setting(_ name: String, _ fallback: Double) -> Double {
        ProcessInfo.processInfo.environment[name].flatMap(Double.init) ?? fallback
    }

    @Test func noFailedOrMalformedAnswerThroughRotationAndReconnects() async throws {
        let seconds = Self.setting("LOCUS_SOAK_SECONDS", 8)
        let mutateRate = Self.setting("LOCUS_SOAK_MUTATE_RATE", 150)
        let prioritizeRate = Self.setting("LOCUS_SOAK_PRIORITIZE_RATE", 10)

        let api = try await FakeAPIServer.start()
        try seedExample(api)
        let dir = try TempDir()
        defer { dir.cleanup() }
        let first = try CertGenerator.generate(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        let second = try CertGenerator.generate(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        try first.write(to: dir.file("serving"))
        try dir.write("both-cas.pem", first.caCertificatePEM + "\n" + second.caCertificatePEM + "\n")
        try dir.write("api-ca.pem", api.certificates.caCertificatePEM)
        try dir.write(
            "kubeconfig",
            """
            current-context: c
            clusters: [{name: k, cluster: {server: "\(api.url.absoluteString)", certificate-authority: api-ca.pem}}]
            contexts: [{name: c, context: {cluster: k, user: u}}]
            users: [{name: u, user: {token: soak-token}}]
            """)
        try ExampleState.writeRequests(to: dir.file("requests"))

        let serve = try LocusProcess(
            [
                "serve", "--kubeconfig", dir.file("kubeconfig"), "--port", "0", "--address", "127.0.0.1",
                "--cert", dir.file("serving/tls.crt"), "--key", dir.file("serving/tls.key"), "--log-level", "info",
            ],
            environment: ["LOCUS_CERT_RELOAD_SECONDS": "0.5", "LOCUS_LOCALITY_REFRESH_SECONDS": "1"], cwd: dir.path)
        defer { serve.kill() }
        let port = try await serve.waitForPort()
        let client = try makeClient(caPEM: first.caCertificatePEM)
        #expect(
            await eventually(timeout: .seconds(20)) {
                (try? await client.execute(.init(url: "https://localhost:\(port)/readyz"), timeout: .seconds(2)))?.status == .ok
            }, "ready once the informers listed the example cluster: \(serve.log)")
        try await client.shutdown()

        let bench = URL(fileURLWithPath: locusExecutable).deletingLastPathComponent().appendingPathComponent("locus-bench").path
        // The webhook benchmark's review (one dataset PVC, serverful) when given, else the example's
        // (a FUSE sidecar and a Vineyard socket).
        let mutateBody = ProcessInfo.processInfo.environment["LOCUS_SOAK_MUTATE_BODY"] ?? dir.file("requests/mutate.json")
        // The extender benchmark's size: the example pod against this many candidate names (the
        // example's nodes first, then names Locus does not know, which score 0).
        if let n = ProcessInfo.processInfo.environment["LOCUS_SOAK_PRIORITIZE_NODES"].flatMap(Int.init), n > 2 {
            let names = ["node-a", "node-b"] + (2..<n).map { String(format: "node-%05d", $0) }
            let body = try String(contentsOfFile: dir.file("requests/prioritize.json"), encoding: .utf8)
                .replacingOccurrences(
                    of: #""NodeNames":["node-a","node-b"]"#,
                    with: #""NodeNames":["# + names.map { "\"\($0)\"" }.joined(separator: ",") + "]")
            try dir.write("requests/prioritize.json", body)
        }
        func load(_ route: String, rate: Double, connections: Int) -> Task<(status: Int32, stdout: String, stderr: String), any Error> {
            Task {
                try await runProcessAsync(
                    bench,
                    [
                        "rate", "--port", "\(port)", "--path", route, "--body",
                        route == "/mutate" ? mutateBody : dir.file("requests/\(route.dropFirst()).json"),
                        "--rate", "\(rate)", "--connections", "\(connections)", "--seconds", "\(seconds)",
                        "--ca", dir.file("both-cas.pem"), "--reconnect-every", "\(max(20, Int(rate * seconds) / connections / 6))",
                        "--check-every", "1",
                    ])
            }
        }
        let mutate = load("/mutate", rate: mutateRate, connections: 8)
        let prioritize = load("/prioritize", rate: prioritizeRate, connections: 2)

        func at(_ fraction: Double) async throws { try await Task.sleep(for: .milliseconds(Int64(seconds * 1000 * fraction / 4))) }
        try await at(1.2)  // ~30 %: rotate the serving pair, key first, as a Secret volume update may land
        try dir.write("serving/tls.key", second.keyPEM)
        try dir.write("serving/tls.crt", second.certificatePEM)
        try await at(0.8)  // ~50 %: every watch drops; the informers resume from their resourceVersion
        api.dropWatches()
        api.apply(
            Resource.nodes.path(), kind: "Node", ["metadata": ["name": "node-d", "labels": ["topology.kubernetes.io/zone": "zone-2"]]])
        try await at(0.8)  // ~70 %: watches fail while history moves on and is compacted: resuming gets 410 Gone, the informers relist
        api.blockWatches(true)
        api.dropWatches()
        api.apply(
            Resource.nodes.path(), kind: "Node", ["metadata": ["name": "node-e", "labels": ["topology.kubernetes.io/zone": "zone-2"]]])
        api.compact()
        try await Task.sleep(for: .milliseconds(300))
        api.blockWatches(false)

        let m = try await mutate.value
        let p = try await prioritize.value
        print("soak \(seconds) s:\n\(m.stdout)\(p.stdout)")
        #expect(m.status == 0 && m.stdout.contains("failed 0  malformed 0"), "\(m.stdout)\(m.stderr)")
        #expect(p.status == 0 && p.stdout.contains("failed 0  malformed 0"), "\(p.stdout)\(p.stderr)")

        // The rotation and both reconnects happened, and were survived.
        let after = try makeClient(caPEM: second.caCertificatePEM)
        defer { Task { try? await after.shutdown() } }
        func metrics() async throws -> String {
            let r = try await after.execute(.init(url: "https://localhost:\(port)/metrics"), timeout: .seconds(5))
            #expect(r.status == .ok, "the rotated certificate is served to new connections")
            return String(buffer: try await r.body.collect(upTo: 1 << 20))
        }
        func sum(_ name: String, _ text: String) -> Double {
            text.split(separator: "\n").filter { $0.hasPrefix(name) }.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
                .reduce(0, +)
        }
        var text = try await metrics()
        #expect(sum("locus_tls_certificate_reloads_count", text) >= 1, "\(text)")
        #expect(sum("locus_informer_reconnects_count", text) >= 1, "\(text)")
        // The relist may still be in its backoff when the load ends.
        #expect(
            await eventually(timeout: .seconds(20)) {
                text = (try? await metrics()) ?? ""
                return sum("locus_informer_relists_count", text) >= 1
            }, "\(text)")
        let synced = text.split(separator: "\n").filter { $0.hasPrefix("locus_informer_synced_bool{") }
        #expect(synced.count >= 6 && synced.allSatisfy { $0.hasSuffix(" 1.0") || $0.hasSuffix(" 1") }, "\(synced)")
        // node-d (added after the first drop) and node-e (added while watches failed, then relisted)
        // reached the node cache: /filter knows them (a node Locus does not know would pass), and
        // neither can serve the Vineyard dataset.
        let body = try String(contentsOfFile: dir.file("requests/filter.json"), encoding: .utf8)
            .replacingOccurrences(of: #""NodeNames":["node-a","node-b","node-c"]"#, with: #""NodeNames":["node-a","node-d","node-e"]"#)
        var verdict = ""
        var informers = ""
        #expect(
            await eventually(timeout: .seconds(20)) {
                informers = ((try? await metrics()) ?? "").split(separator: "\n").filter { $0.hasPrefix("locus_informer") }.joined(
                    separator: "\n")
                var filter = HTTPClientRequest(url: "https://localhost:\(port)/filter")
                filter.method = .POST
                filter.headers.add(name: "Content-Type", value: "application/json")
                filter.body = .bytes(ByteBuffer(string: body))
                guard let r = try? await after.execute(filter, timeout: .seconds(5)), let b = try? await r.body.collect(upTo: 1 << 20)
                else { return false }
                verdict = String(buffer: b)
                return verdict.contains(#""NodeNames":["node-a"]"#) && verdict.contains("node node-d runs no VineyardRuntime worker")
                    && verdict.contains("node node-e runs no VineyardRuntime worker")
            },
            "\(verdict)\n\(informers)\n\(serve.log.split(separator: "\n").filter { !$0.contains("engine did not answer") }.suffix(40).joined(separator: "\n"))"
        )
        serve.signal(SIGTERM)
        #expect(try await serve.wait() == 0)
        await api.stop()
    }
}
