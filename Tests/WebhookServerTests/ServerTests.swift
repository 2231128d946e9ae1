import AsyncHTTPClient
import Foundation
import JSON
import KubeClient
import KubeTestServer
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
import TestSupport
import Testing

@testable import WebhookServer

@Suite("TLS server: routes, readiness, metrics, limits, certificate rotation")
struct ServerTests {
    @Test func routesOverTLS() async throws {
        let locus = try await RunningLocus.start()
        let client = try makeClient(caPEM: locus.certs.caCertificatePEM)
        let health = try await client.execute(HTTPClientRequest(url: "\(locus.url)/healthz"), timeout: .seconds(5))
        #expect(health.status == .ok)
        #expect(String(buffer: try await health.body.collect(upTo: 1024)) == "ok\n")
        let ready = try await client.execute(HTTPClientRequest(url: "\(locus.url)/readyz"), timeout: .seconds(5))
        #expect(ready.status == .ok)
        let missing = try await client.execute(HTTPClientRequest(url: "\(locus.url)/nope"), timeout: .seconds(5))
        #expect(missing.status == .notFound)
        for path in ["/filter", "/prioritize"] {
            var post = HTTPClientRequest(url: "\(locus.url)\(path)")
            post.method = .POST
            post.headers.add(name: "Content-Type", value: "application/json")
            post.body = .bytes(ByteBuffer(string: "{}"))
            let r = try await client.execute(post, timeout: .seconds(5))
            #expect(r.status == .badRequest, "\(path)")
            let body = String(buffer: try await r.body.collect(upTo: 1024))
            #expect(body.contains("ExtenderArgs.Pod is missing"), "a JSON error body: \(body)")
        }
        for _ in 0..<2 {
            var post = HTTPClientRequest(url: "\(locus.url)/mutate")
            post.method = .POST
            post.headers.add(name: "Content-Type", value: "application/json")
            post.body = .bytes(ByteBuffer(string: "{}"))
            let r = try await client.execute(post, timeout: .seconds(5))
            #expect(r.status == .badRequest)
            _ = try await r.body.collect(upTo: 1024)
        }
        let getMutate = try await client.execute(HTTPClientRequest(url: "\(locus.url)/mutate"), timeout: .seconds(5))
        #expect(getMutate.status == .methodNotAllowed || getMutate.status == .notFound)

        let metrics = try await client.execute(HTTPClientRequest(url: "\(locus.url)/metrics"), timeout: .seconds(5))
        #expect(metrics.status == .ok)
        #expect(metrics.headers.first(name: "Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = String(buffer: try await metrics.body.collect(upTo: 1 << 20))
        #expect(text.contains(#"locus_http_requests_total{route="healthz",code="200"} 1"#), "\(text)")
        #expect(text.contains(#"locus_http_requests_total{route="other",code="404"} 1"#))
        #expect(text.contains(#"locus_http_request_duration_seconds_count{route="mutate"} 3"#), "two POSTs and a GET")
        #expect(text.contains("locus_tls_certificate_reloads_count 0.0"))
        try await client.shutdown()
        await locus.stop()
    }

    @Test func tls12And13AcceptedTls11Refused() async throws {
        let locus = try await RunningLocus.start()
        for version in [TLSVersion.tlsv12, .tlsv13] {
            let client = try makeClient(caPEM: locus.certs.caCertificatePEM, maxTLS: version, minTLS: version)
            let r = try await client.execute(HTTPClientRequest(url: "\(locus.url)/healthz"), timeout: .seconds(5))
            #expect(r.status == .ok, "TLS \(version)")
            try await client.shutdown()
        }
        for version in [TLSVersion.tlsv11, .tlsv1] {
            await #expect(throws: (any Error).self, "TLS \(version) must be refused") {
                try await SingleConnection.with(port: locus.port, caPEM: [locus.certs.caCertificatePEM], maxTLS: version) { c in
                    _ = try await c.request(.GET, "/healthz")
                }
            }
        }
        // Plain HTTP on the TLS port gets no HTTP answer.
        let plain = kept(HTTPClient(eventLoopGroupProvider: .singleton))
        await #expect(throws: (any Error).self) {
            _ = try await plain.execute(HTTPClientRequest(url: "http://127.0.0.1:\(locus.port)/healthz"), timeout: .seconds(3))
        }
        try await plain.shutdown()
        await locus.stop()
    }

    @Test func bodiesOverTheLimitGet413() async throws {
        let locus = try await RunningLocus.start()
        let client = try makeClient(caPEM: locus.certs.caCertificatePEM)
        let limit = 3 * 1024 * 1024
        for (size, expected) in [(limit, HTTPResponseStatus.badRequest), (limit + 1, .payloadTooLarge)] {
            var post = HTTPClientRequest(url: "\(locus.url)/mutate")
            post.method = .POST
            post.headers.add(name: "Content-Type", value: "application/json")
            post.body = .bytes(ByteBuffer(repeating: UInt8(ascii: " "), count: size))
            let r = try await client.execute(post, timeout: .seconds(10))
            #expect(r.status == expected, "\(size) bytes")
            if expected == .payloadTooLarge {
                let body = String(buffer: try await r.body.collect(upTo: 4096))
                #expect(body.contains("over the limit of 3145728 bytes"), "\(body)")
            } else {
                _ = try await r.body.collect(upTo: 4096)
            }
        }
        // A chunked body with no Content-Length is cut off at the limit too.
        var chunked = HTTPClientRequest(url: "\(locus.url)/mutate")
        chunked.method = .POST
        chunked.headers.add(name: "Content-Type", value: "application/json")
        let piece = ByteBuffer(repeating: UInt8(ascii: " "), count: 1 << 20)
        chunked.body = .stream(
            AsyncStream<ByteBuffer> { c in
                for _ in 0..<4 { c.yield(piece) }
                c.finish()
            }, length: .unknown)
        let r = try await client.execute(chunked, timeout: .seconds(10))
        #expect(r.status == .payloadTooLarge)
        try await client.shutdown()
        await locus.stop()
    }

    /// A client keeps one connection busy while the certificate files are rotated, first to a
    /// half-written file and then to a new valid pair from another CA: the busy connection never
    /// fails, the broken pair is never served, new connections get the new certificate.
    @Test func certificateRotationWhileAConnectionIsBusy() async throws {
        let locus = try await RunningLocus.start()
        let oldCA = locus.certs.caCertificatePEM
        let newCerts = try WebhookServerTestCerts.make()
        let oldFingerprint = locus.certificates.fingerprint
        let failures = Atomic<Int>(0)
        let served = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)

        let busy = Task {
            try await SingleConnection.with(port: locus.port, caPEM: [oldCA]) { conn in
                while !stop.load(ordering: .relaxed) {
                    let r = try await conn.request(.GET, "/healthz")
                    if r.status == 200 { served.add(1, ordering: .relaxed) } else { failures.add(1, ordering: .relaxed) }
                }
            }
        }
        #expect(await eventually { served.load(ordering: .relaxed) > 20 })

        // 1. A half-written certificate (the Secret volume mid-update): ignored, old pair kept.
        let half = String(newCerts.certificatePEM.prefix(newCerts.certificatePEM.count / 2))
        try locus.dir.write("tls.crt", half)
        #expect(await eventually { locus.certificates.failedReloadCount >= 1 })
        #expect(locus.certificates.fingerprint == oldFingerprint)
        let stillOld = try await SingleConnection.with(port: locus.port, caPEM: [oldCA]) { c in
            try await c.request(.GET, "/healthz").status
        }
        #expect(stillOld == 200, "still serving the old pair")

        // 2. The new pair, key first and certificate last (as a rotation tool may write them).
        try locus.dir.write("tls.key", newCerts.keyPEM)
        try locus.dir.write("tls.crt", newCerts.certificatePEM)
        #expect(await eventually { locus.certificates.fingerprint != oldFingerprint })
        #expect(locus.certificates.reloadCount >= 1)
        let afterRotation = served.load(ordering: .relaxed)
        #expect(await eventually { served.load(ordering: .relaxed) > afterRotation + 20 }, "the old connection keeps working")

        // New connections present the new certificate: a client trusting only the new CA succeeds,
        // one trusting only the old CA fails.
        let withNewCA = try await SingleConnection.with(port: locus.port, caPEM: [newCerts.caCertificatePEM]) { c in
            try await c.request(.GET, "/healthz").status
        }
        #expect(withNewCA == 200)
        await #expect(throws: (any Error).self) {
            try await SingleConnection.with(port: locus.port, caPEM: [oldCA]) { c in _ = try await c.request(.GET, "/healthz") }
        }
        stop.store(true, ordering: .relaxed)
        try await busy.value
        #expect(failures.load(ordering: .relaxed) == 0)
        await locus.stop()
    }

    /// A Secret volume as the kubelet writes it: `tls.crt -> ..data/tls.crt`, and an update swaps
    /// `..data` to a new folder in one rename. The visible names never change, so the store
    /// must look at the file at the end of the links.
    @Test func certificateRotationThroughTheKubeletsDataLinkSwap() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let first = try WebhookServerTestCerts.make()
        let second = try WebhookServerTestCerts.make()
        func secret(_ c: GeneratedCertificates) -> [AtomicWriter.File] {
            PodRunner.files(["tls.crt": c.certificatePEM, "tls.key": c.keyPEM], items: nil, mode: 0o644)
        }
        try AtomicWriter.write(secret(first), to: dir.path)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.file("tls.crt")) == "..data/tls.crt")
        let store = try CertificateStore(certificatePath: dir.file("tls.crt"), keyPath: dir.file("tls.key"), logger: .init(label: "test"))
        let before = store.fingerprint
        #expect(!store.reloadIfChanged(), "nothing changed yet")
        try AtomicWriter.write(secret(second), to: dir.path)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.file("tls.crt")) == "..data/tls.crt")
        #expect(store.reloadIfChanged(), "the swap is noticed")
        #expect(store.fingerprint != before)
        #expect(store.failedReloadCount == 0)
    }

    @Test func readyOnlyAfterTheInformersSynced() async throws {
        let api = try await FakeAPIServer.start()
        for c in [
            ("/api/v1/persistentvolumeclaims", "PersistentVolumeClaim"), ("/api/v1/persistentvolumes", "PersistentVolume"),
            ("/api/v1/nodes", "Node"), ("/api/v1/configmaps", "ConfigMap"), ("/api/v1/namespaces", "Namespace"),
            ("/apis/apps/v1/daemonsets", "DaemonSet"), ("/api/v1/pods", "Pod"),
        ] {
            api.serve(c.0, kind: c.1)
        }
        api.setRequiredToken("not-yet")  // every list fails with 401 until the token is "rotated"
        let kube = try KubeAPIClient(config: api.kubeConfig(token: "good"), requestTimeout: .seconds(5))
        let live = LiveCluster(client: kube, cache: ClusterCache(), logger: .init(label: "test"))
        let locus = try await RunningLocus.start(backend: .live(live))
        let client = try makeClient(caPEM: locus.certs.caCertificatePEM)
        let notReady = try await client.execute(HTTPClientRequest(url: "\(locus.url)/readyz"), timeout: .seconds(5))
        #expect(notReady.status == .serviceUnavailable)
        let reason = String(buffer: try await notReady.body.collect(upTo: 4096))
        #expect(reason.contains("persistentvolumeclaims"), "\(reason)")
        let health = try await client.execute(HTTPClientRequest(url: "\(locus.url)/healthz"), timeout: .seconds(5))
        #expect(health.status == .ok, "alive while not ready")

        api.setRequiredToken("good")
        api.apply("/api/v1/nodes", kind: "Node", ["metadata": ["name": "node-a", "labels": ["fluid.io/s-ml-imagenet": "true"]]])
        let ready = await eventually(timeout: .seconds(15)) {
            let r = try? await client.execute(HTTPClientRequest(url: "\(locus.url)/readyz"), timeout: .seconds(5))
            return r?.status == .ok
        }
        #expect(ready)
        #expect(await eventually { live.cache.nodes.get(key: "node-a") != nil })
        // Fluid's CRDs are not installed on this API server: those informers count as synced, empty.
        #expect(live.cache.datasets.count == 0)
        let metrics = try await client.execute(HTTPClientRequest(url: "\(locus.url)/metrics"), timeout: .seconds(5))
        let text = String(buffer: try await metrics.body.collect(upTo: 1 << 20))
        #expect(
            text.contains(#"locus_informer_synced_bool{resource="nodes"} 1.0"#)
                || text.contains(#"locus_informer_synced_bool{resource="nodes"} 1"#), "\(text)")
        try await client.shutdown()
        await locus.stop()
        await kube.shutdown()
        await api.stop()
    }

    @Test func generatedCertificatesCarryTheRequestedNames() throws {
        let certs = try CertGenerator.generate(dnsNames: ["locus.locus-system.svc", "localhost"], ipAddresses: ["10.0.0.7", "::1"])
        let leaf = try NIOSSLCertificate.fromPEMBytes(Array(certs.certificatePEM.utf8))[0]
        let names = leaf._subjectAlternativeNames().map { san -> String in
            switch san.nameType {
            case .dnsName: return String(decoding: san.contents, as: UTF8.self)
            case .ipAddress:
                return san.contents.count == 4 ? san.contents.map(String.init).joined(separator: ".") : "ipv6:\(san.contents.count)"
            default: return "other"
            }
        }
        #expect(Set(names) == ["locus.locus-system.svc", "localhost", "10.0.0.7", "ipv6:16"])
        #expect(Data(base64Encoded: certs.caBundle).map { String(decoding: $0, as: UTF8.self) } == certs.caCertificatePEM)
        #expect(throws: CertificateRequestError.self) { try CertGenerator.generate(dnsNames: [], ipAddresses: ["999.1.1.1"]) }
        #expect(throws: CertificateRequestError.self) { try CertGenerator.generate(dnsNames: ["bad_name!"], ipAddresses: []) }
        #expect(throws: CertificateRequestError.self) { try CertGenerator.generate(dnsNames: [], ipAddresses: []) }
    }
}
