import Foundation
import JSON
import KubeTestServer
import NIOCore
import TestSupport
import Testing
import WebhookServer

@testable import KubeClient

func podJSON(_ name: String, namespace: String = "ml", claim: String? = nil, extra: JSONValue? = nil) -> JSONValue {
    var spec: JSONValue = ["containers": [["name": "main", "image": "python:3.12"]]]
    if let claim {
        spec["volumes"] = [["name": "data", "persistentVolumeClaim": ["claimName": .string(claim)]]]
    }
    var pod: JSONValue = [
        "apiVersion": "v1", "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": ["app": "trainer"]],
        "spec": spec,
    ]
    if let extra { pod["x-locus-unknown"] = extra }
    return pod
}

/// Runs `body` with a started fake API server and a client for it, and stops both.
func withFakeAPI<T>(token: String? = "test-token", _ body: (FakeAPIServer, KubeAPIClient) async throws -> T) async throws -> T {
    let server = try await FakeAPIServer.start()
    let client = try KubeAPIClient(config: server.kubeConfig(token: token), requestTimeout: .seconds(5), watchIdleTimeout: .seconds(20))
    do {
        let r = try await body(server, client)
        await client.shutdown()
        await server.stop()
        return r
    } catch {
        await client.shutdown()
        await server.stop()
        throw error
    }
}

@Suite("Kubernetes API client against the in-process API server")
struct KubeAPIClientTests {
    @Test func getListAndPaginate() async throws {
        try await withFakeAPI { server, client in
            for i in 0..<5 { server.apply("/api/v1/pods", kind: "Pod", podJSON("p\(i)", claim: "imagenet", extra: ["kept": true])) }
            server.apply("/api/v1/pods", kind: "Pod", podJSON("other", namespace: "web"))
            let pod = try await client.get(RawPod.self, .pods, namespace: "ml", name: "p3")
            #expect(pod.pod.metadata.name == "p3")
            #expect(pod.pod.spec?.volumes?.first?.persistentVolumeClaim?.claimName == "imagenet")
            #expect(pod.json["x-locus-unknown"]?["kept"] == .bool(true), "fields Locus does not model survive")

            let page = try await client.list(Pod.self, .pods, namespace: "ml", options: ListOptions(limit: 2))
            #expect(page.items.count == 2)
            #expect(page.metadata.remainingItemCount == 3)
            #expect(page.metadata.continue != nil)

            let all = try await client.listAll(Pod.self, .pods, namespace: "ml", pageSize: 2)
            #expect(all.items.map { $0.metadata.name! }.sorted() == ["p0", "p1", "p2", "p3", "p4"])
            #expect(all.resourceVersion == page.metadata.resourceVersion)
            let continued = server.requests.filter { $0.query["continue"] != nil }
            #expect(continued.count == 2, "three pages of two")
            #expect(server.requests.allSatisfy { $0.authorization == "Bearer test-token" })

            let everywhere = try await client.listAll(Pod.self, .pods)
            #expect(everywhere.items.count == 6)
        }
    }

    /// An answer that cannot be decoded, or is larger than the client reads, is an error of its
    /// own kind, said with the call and why, and an informer that meets it reports it as its
    /// failure (the reason /readyz gives) and counts it.
    @Test func undecodableAndTooLargeAnswersAreTheirOwnFailures() async throws {
        try await withFakeAPI { server, client in
            server.apply(Resource.nodes.path(), kind: "Node", ["metadata": ["name": "n1", "labels": "not-a-map"]])
            do {
                _ = try await client.listAll(Node.self, .nodes)
                Issue.record("expected a decoding error")
            } catch let e as KubeAPIError {
                #expect(e.kind == "undecodable", "\(e)")
                #expect(e.description.hasPrefix("/api/v1/nodes: unexpected response body"), "\(e)")
            }
            do {
                _ = try await client.send("GET", path: Resource.nodes.path(), maxBody: 64)
                Issue.record("expected too large")
            } catch let e as KubeAPIError {
                #expect(e.kind == "too large", "\(e)")
                #expect(e.description == "GET /api/v1/nodes: the answer is larger than the 64 bytes Locus reads", "\(e)")
            }
            #expect(
                KubeAPIError.tooLarge(method: "GET", path: "/x", limit: 64 << 20).description
                    == "GET /x: the answer is larger than the 64 MiB Locus reads")
            let informer = Informer<Node>(
                client: client, resource: .nodes, backoff: Backoff(base: .milliseconds(20), cap: .milliseconds(50)))
            let run = Task { await informer.run() }
            #expect(await eventually { (informer.stats.failures["undecodable"] ?? 0) >= 2 })
            #expect(!informer.hasSynced)
            #expect(informer.status.failure?.contains("unexpected response body") == true, "\(String(describing: informer.status.failure))")
            run.cancel()
        }
    }

    @Test func apiErrorsAreClearAndTyped() async throws {
        try await withFakeAPI(token: "wrong-token") { server, client in
            server.apply("/api/v1/pods", kind: "Pod", podJSON("p"))
            server.setRequiredToken("right-token")
            do {
                _ = try await client.get(Pod.self, .pods, namespace: "ml", name: "p")
                Issue.record("expected 401")
            } catch let e as KubeAPIError {
                #expect(e.isUnauthorized)
                #expect(e.description.contains("401") && e.description.contains("Unauthorized"))
                #expect(!e.description.contains("wrong-token"), "errors never carry credentials")
            }
            server.setRequiredToken(nil)
            server.force(
                status: 403, reason: "Forbidden",
                message:
                    "pods is forbidden: User \"system:serviceaccount:locus-system:locus\" cannot list resource \"pods\" in API group "
                    + "\"\" at the cluster scope"
            )
            do {
                _ = try await client.listAll(Pod.self, .pods)
                Issue.record("expected 403")
            } catch let e as KubeAPIError {
                #expect(e.isForbidden)
                #expect(e.description.contains("cannot list resource \"pods\""))
                #expect(e.description.contains("ClusterRole"))
            }
            do {
                _ = try await client.get(Pod.self, .pods, namespace: "ml", name: "missing")
                Issue.record("expected 404")
            } catch let e as KubeAPIError {
                #expect(e.isNotFound)
                #expect(e.description.contains("pods \"missing\" not found"))
            }
            do {
                _ = try await client.listAll(Dataset.self, .datasets)
                Issue.record("expected 404 for an uninstalled CRD")
            } catch let e as KubeAPIError {
                #expect(e.isNotFound)
            }
        }
    }

    @Test func expiredContinueTokenIsGone() async throws {
        try await withFakeAPI { server, client in
            for i in 0..<4 { server.apply("/api/v1/pods", kind: "Pod", podJSON("p\(i)")) }
            let first = try await client.list(Pod.self, .pods, options: ListOptions(limit: 2))
            server.expireContinueTokens(true)
            do {
                _ = try await client.list(Pod.self, .pods, options: ListOptions(limit: 2, continueToken: first.metadata.continue))
                Issue.record("expected 410")
            } catch let e as KubeAPIError {
                #expect(e.isGone)
                #expect(e.description.contains("410"))
            }
        }
    }

    @Test func unreachableServerIsATransportError() async throws {
        // A port nothing listens on.
        let config = KubeConfig(server: URL(string: "https://127.0.0.1:1")!, credentials: .token("secret-token-value"))
        let client = try KubeAPIClient(config: config, requestTimeout: .seconds(3))
        do {
            _ = try await client.serverVersion()
            Issue.record("expected a transport error")
        } catch let e as KubeAPIError {
            guard case .transport = e else {
                Issue.record("expected transport, got \(e)")
                await client.shutdown()
                return
            }
            #expect(e.description.contains("unreachable"))
            #expect(!e.description.contains("secret-token-value"))
        }
        await client.shutdown()
    }

    @Test func untrustedServerCertificateIsRefused() async throws {
        let server = try await FakeAPIServer.start()
        let other = try WebhookServerTestCerts.make()
        let client = try KubeAPIClient(
            config: KubeConfig(server: server.url, caPEM: Array(other.caCertificatePEM.utf8)), requestTimeout: .seconds(3))
        await #expect(throws: KubeAPIError.self) { try await client.serverVersion() }
        await client.shutdown()
        // insecure-skip-tls-verify accepts it.
        let insecure = try KubeAPIClient(config: KubeConfig(server: server.url, insecureSkipTLSVerify: true), requestTimeout: .seconds(3))
        #expect(try await insecure.serverVersion().minorNumber == 31)
        await insecure.shutdown()
        await server.stop()
    }

    @Test func patchSendsItsContentType() async throws {
        try await withFakeAPI { server, client in
            server.apply("/api/v1/pods", kind: "Pod", podJSON("p"))
            let patched = try await client.patch(
                RawPod.self, .pods, namespace: "ml", name: "p",
                body: Data(#"{"metadata":{"labels":{"locus.dev/seen":"true"}}}"#.utf8), patchType: .merge)
            #expect(patched.pod.metadata.labels?["locus.dev/seen"] == "true")
            #expect(patched.pod.metadata.labels?["app"] == "trainer")
            #expect(server.requests.last?.contentType == "application/merge-patch+json")
            #expect(server.requests.last?.query["fieldManager"] == "locus")
            // A JSON patch applies as RFC 6902 has it; its failed `test` is a 422 and changes nothing.
            let relabelled = try await client.patch(
                RawPod.self, .pods, namespace: "ml", name: "p",
                body: Data(
                    #"[{"op":"test","path":"/metadata/labels/app","value":"trainer"},{"op":"replace","path":"/metadata/labels/app","value":"x"}]"#
                        .utf8), patchType: .json)
            #expect(relabelled.pod.metadata.labels?["app"] == "x")
            #expect(server.requests.last?.contentType == "application/json-patch+json")
            do {
                _ = try await client.patch(
                    RawPod.self, .pods, namespace: "ml", name: "p",
                    body: Data(
                        #"[{"op":"test","path":"/metadata/labels/app","value":"trainer"},{"op":"remove","path":"/metadata/labels"}]"#.utf8),
                    patchType: .json)
                Issue.record("a failed test applied")
            } catch let error as KubeAPIError {
                #expect(error.isInvalid, "\(error)")
            }
            let now = try await client.get(RawPod.self, .pods, namespace: "ml", name: "p")
            #expect(now.pod.metadata.labels?["app"] == "x")
        }
    }

    @Test func watchStreamsEventsBookmarksAndEnds() async throws {
        try await withFakeAPI { server, client in
            server.serve("/api/v1/pods", kind: "Pod")
            let start = server.currentResourceVersion
            // A long timeoutSeconds, and the stream ended by the server once the events were sent:
            // on a busy machine a 2 s timeout could end the watch before the events were applied.
            let stream = try await client.watch(Pod.self, .pods, options: WatchOptions(resourceVersion: String(start), timeoutSeconds: 60))
            server.apply("/api/v1/pods", kind: "Pod", podJSON("a"))
            server.apply("/api/v1/pods", kind: "Pod", podJSON("a", extra: 1))
            #expect(await eventually { server.openWatches == 1 }, "the bookmark goes to open watches only")
            server.bookmark()
            server.delete("/api/v1/pods", kind: "Pod", namespace: "ml", name: "a")
            server.endWatches()
            var seen: [String] = []
            for try await e in stream {
                seen.append("\(e.type.rawValue) \(e.object?.metadata.name ?? "-") \(e.resourceVersion ?? "")")
            }
            #expect(
                seen == [
                    "ADDED a \(start + 1)", "MODIFIED a \(start + 2)", "BOOKMARK - \(start + 2)", "DELETED a \(start + 3)",
                ])
            let watchRequest = server.requests.first { $0.query["watch"] != nil }
            #expect(watchRequest?.query["allowWatchBookmarks"] == "true")
            #expect(watchRequest?.query["resourceVersion"] == String(start))
            #expect(watchRequest?.query["timeoutSeconds"] == "60")
        }
    }

    @Test func watchFromAnExpiredVersionDeliversA410ErrorEvent() async throws {
        try await withFakeAPI { server, client in
            server.apply("/api/v1/pods", kind: "Pod", podJSON("a"))
            server.apply("/api/v1/pods", kind: "Pod", podJSON("b"))
            server.compact()
            let stream = try await client.watch(Pod.self, .pods, options: WatchOptions(resourceVersion: "1"))
            var events: [WatchEvent<Pod>] = []
            for try await e in stream { events.append(e) }
            #expect(events.count == 1)
            #expect(events.first?.type == .error)
            #expect(events.first?.status?.code == 410)
            #expect(events.first?.status?.reason == "Expired")
        }
    }

    @Test func droppedWatchThrows() async throws {
        try await withFakeAPI { server, client in
            server.serve("/api/v1/pods", kind: "Pod")
            let stream = try await client.watch(
                Pod.self, .pods, options: WatchOptions(resourceVersion: String(server.currentResourceVersion)))
            server.apply("/api/v1/pods", kind: "Pod", podJSON("a"))
            var got = 0
            do {
                for try await _ in stream {
                    got += 1
                    server.dropWatches()
                }
                Issue.record("a dropped chunked stream must end with an error, not a clean end")
            } catch {
                #expect(got == 1)
            }
        }
    }

    @Test func watchLinesAcrossChunks() async throws {
        func lines(_ chunks: [String], maxLine: Int) async throws -> [String] {
            let body = AsyncStream<ByteBuffer> { c in
                for chunk in chunks { c.yield(ByteBuffer(string: chunk)) }
                c.finish()
            }
            var lines: [String] = []
            try await KubeAPIClient.forEachLine(of: body, maxLine: maxLine) { lines.append(String(buffer: $0)) }
            return lines
        }
        // The event split across the two chunks arrives whole; CRLF ends a line, blank lines are
        // skipped, and the last line needs no newline.
        let got = try await lines(["{\"a\":1}\n{\"b\"", ":2}\r\n\n   \n{\"c\":3}"], maxLine: 64)
        #expect(got == ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"])
        await #expect(throws: KubeAPIError.self) { try await lines([String(repeating: "x", count: 20)], maxLine: 8) }
    }
}
