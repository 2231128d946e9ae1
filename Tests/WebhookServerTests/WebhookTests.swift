import AsyncHTTPClient
import Foundation
import JSON
import KubeClient
import KubeTestServer
import Logging
import Mutators
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

@testable import WebhookServer

@Suite("POST /mutate over TLS")
struct WebhookTests {
    static func withLocus(_ configure: (inout ServeConfig) -> Void = { _ in }, _ body: (HTTPClient, RunningLocus) async throws -> Void)
        async throws
    {
        let locus = try await RunningLocus.start(backend: .fixed(try exampleCache()), configure: configure)
        let client = try makeClient(caPEM: locus.certs.caCertificatePEM)
        do {
            try await body(client, locus)
        } catch {
            try await client.shutdown()
            await locus.stop()
            throw error
        }
        try await client.shutdown()
        await locus.stop()
    }

    @Test func v1ReviewGetsAJSONPatchThatMakesTheMutatedPod() async throws {
        try await Self.withLocus { client, locus in
            let pod = makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["imagenet"])
            let a = try await WebhookClient.post(client, locus, admissionReview(pod: pod, uid: "u-1"))
            #expect(a.status == .ok)
            #expect(a.body?["apiVersion"] == "admission.k8s.io/v1" && a.body?["kind"] == "AdmissionReview")
            let response = try #require(a.body?["response"])
            #expect(response["uid"] == "u-1" && response["allowed"] == true && response["patchType"] == "JSONPatch")
            let ops = try #require(try WebhookClient.patch(of: a)?.arrayValue)
            let expected = decide(pod, cache: try exampleCache())
            #expect(JSONPatch.json(expected.response.patch) == .array(ops))
            let patched = try JSONPatch.apply(expected.response.patch, to: pod)
            #expect(patched == expected.pod)

            let metrics = try await client.execute(HTTPClientRequest(url: "\(locus.url)/metrics"), timeout: .seconds(5))
            let text = String(buffer: try await metrics.body.collect(upTo: 1 << 20))
            #expect(text.contains(#"locus_admission_reviews_total{outcome="mutated",engine="alluxio"} 1"#), "\(text)")
        }
    }

    /// A dry run (`kubectl apply --dry-run=server`) gets the same answer as the real request:
    /// Locus has no side effects to skip, which is what `sideEffects: None` promises.
    @Test func dryRunGetsTheSameAnswer() async throws {
        try await Self.withLocus { client, locus in
            for pod in [
                makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["imagenet"]),
                makePod(annotations: ["locus.dev/datasets": "nope"]),
            ] {
                let real = try await WebhookClient.post(client, locus, admissionReview(pod: pod, uid: "d-1"))
                let dry = try await WebhookClient.post(client, locus, admissionReview(pod: pod, uid: "d-1", dryRun: true))
                #expect(real.status == .ok && dry.status == .ok)
                #expect(dry.text == real.text)
                #expect(dry.body?["response"]?["uid"] == "d-1")
            }
            let metrics = try await client.execute(HTTPClientRequest(url: "\(locus.url)/metrics"), timeout: .seconds(5))
            let text = String(buffer: try await metrics.body.collect(upTo: 1 << 20))
            #expect(
                text.contains(#"locus_admission_reviews_total{outcome="denied",engine="none"} 2"#),
                "both reviews of the denied pod answered: \(text)")
        }
    }

    /// `/metrics` counts how often the memo of answers answered a review (a workload's replica)
    /// and how often the review was decided (the first two replicas: the second's answer is kept).
    @Test func theMemoOfAnswersCountsItsHitsAndMisses() async throws {
        try await Self.withLocus { client, locus in
            let pod = makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["imagenet"])
            for n in 1...4 {
                let uid = "a1b2c3d4-0000-0000-0000-00000000000\(n)"
                #expect(try await WebhookClient.post(client, locus, admissionReview(pod: pod, uid: uid)).status == .ok)
            }
            let metrics = try await client.execute(HTTPClientRequest(url: "\(locus.url)/metrics"), timeout: .seconds(5))
            let text = String(buffer: try await metrics.body.collect(upTo: 1 << 20))
            #expect(text.contains(#"locus_admission_memo_total{result="miss"} 2"#), "\(text)")
            #expect(text.contains(#"locus_admission_memo_total{result="hit"} 2"#), "the replicas are answered from the memo")
        }
    }

    @Test func v1beta1IsAnsweredInKind() async throws {
        try await Self.withLocus { client, locus in
            let a = try await WebhookClient.post(
                client, locus, admissionReview(pod: makePod(claims: ["imagenet"]), uid: "b-1", apiVersion: "admission.k8s.io/v1beta1"))
            #expect(a.status == .ok)
            #expect(a.body?["apiVersion"] == "admission.k8s.io/v1beta1")
            #expect(a.body?["response"]?["uid"] == "b-1")
            #expect(try WebhookClient.patch(of: a) != nil)
        }
    }

    @Test func otherKindsAndOperationsAreAllowedUnchanged() async throws {
        try await Self.withLocus { client, locus in
            let pod = makePod(claims: ["imagenet"])
            let cases: [(String, [UInt8])] = [
                ("UPDATE", admissionReview(pod: pod, operation: "UPDATE")),
                ("DELETE", admissionReview(pod: nil, operation: "DELETE")),
                (
                    "ConfigMap",
                    admissionReview(
                        pod: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "x"]],
                        kind: ["group": "", "version": "v1", "kind": "ConfigMap"])
                ),
                (
                    "Deployment",
                    admissionReview(pod: ["kind": "Deployment"], kind: ["group": "apps", "version": "v1", "kind": "Deployment"])
                ),
                ("not opted in", admissionReview(pod: makePod(labels: [:], claims: ["imagenet"]))),
            ]
            for (name, body) in cases {
                let a = try await WebhookClient.post(client, locus, body)
                #expect(a.status == .ok, "\(name)")
                #expect(a.body?["response"]?["allowed"] == true, "\(name)")
                #expect(a.body?["response"]?["patch"] == nil && a.body?["response"]?["patchType"] == nil, "\(name): \(a.text)")
            }
        }
    }

    @Test func deniedPodsGetTheReasonInAWellFormedReview() async throws {
        try await Self.withLocus { client, locus in
            let a = try await WebhookClient.post(
                client, locus, admissionReview(pod: makePod(annotations: ["locus.dev/datasets": "missing"]), uid: "d-1"))
            #expect(a.status == .ok)
            let r = try #require(a.body?["response"])
            #expect(r["uid"] == "d-1" && r["allowed"] == false && r["patch"] == nil)
            #expect(r["status"]?["code"] == 403)
            #expect(r["status"]?["message"]?.stringValue?.contains("dataset ml/missing: no such Dataset") == true)
        }
        // Operator's choice: admit without the dataset, warn.
        try await Self.withLocus({ $0.onFailure = .allow }) { client, locus in
            let a = try await WebhookClient.post(
                client, locus, admissionReview(pod: makePod(annotations: ["locus.dev/datasets": "missing"])))
            #expect(a.body?["response"]?["allowed"] == true)
            #expect(a.body?["response"]?["warnings"]?[0]?.stringValue?.contains("ml/missing") == true)
        }
    }

    @Test(arguments: [
        ("not json", "body is not an AdmissionReview: invalid JSON"),
        ("[]", "body is not a JSON object"),
        (#"{"kind":"Pod","apiVersion":"admission.k8s.io/v1"}"#, "kind must be AdmissionReview"),
        (#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v2"}"#, "apiVersion must be one of"),
        (#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"}"#, "AdmissionReview has no request"),
        (#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"operation":"CREATE"}}"#, "request.uid is missing"),
        (
            #"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"x","kind":{"kind":"Pod"}}}"#,
            "request.operation is missing"
        ),
        (
            #"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"x","operation":"CREATE"}}"#,
            "request.kind is missing"
        ),
        (
            #"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"x","operation":"CREATE","kind":{"kind":"Pod"},"object":7}}"#,
            "request.object is not an object"
        ),
    ])
    func malformedReviewsGet400WithTheReason(body: String, reason: String) async throws {
        try await Self.withLocus { client, locus in
            let a = try await WebhookClient.post(client, locus, Array(body.utf8))
            #expect(a.status == .badRequest)
            #expect(a.body?["error"]?.stringValue?.contains(reason) == true, "\(a.text)")
        }
    }

    @Test func wrongContentTypeGets415() async throws {
        try await Self.withLocus { client, locus in
            let body = admissionReview(pod: makePod())
            for type in ["text/plain", "application/yaml", nil] as [String?] {
                let a = try await WebhookClient.post(client, locus, body, contentType: type)
                #expect(a.status == .unsupportedMediaType, "\(type ?? "none")")
            }
            #expect(try await WebhookClient.post(client, locus, body, contentType: "application/json; charset=utf-8").status == .ok)
        }
    }

    /// Many clients at once, a mix of pods: every answer is 200 and a well-formed review of its own uid.
    @Test func concurrentReviewsAreAllAnsweredWellFormed() async throws {
        try await Self.withLocus { client, locus in
            let scenarios = try MutationScenarios.all()
            try await withThrowingTaskGroup(of: (String, WebhookClient.Answer).self) { group in
                for i in 0..<400 {
                    let s = scenarios[i % scenarios.count]
                    let uid = "c-\(i)"
                    let body = admissionReview(pod: s.pod, uid: uid, namespace: s.namespace)
                    group.addTask { (uid, try await WebhookClient.post(client, locus, body)) }
                }
                var n = 0
                for try await (uid, a) in group {
                    n += 1
                    #expect(a.status == .ok)
                    #expect(a.body?["response"]?["uid"]?.stringValue == uid)
                    #expect(a.body?["response"]?["allowed"]?.boolValue != nil)
                }
                #expect(n == 400)
            }
        }
    }
}

@Suite("Native or plain FUSE sidecars, from the cluster version")
struct ClusterVersionTests {
    @Test func versionIsAskedOnceOrConfigured() async throws {
        let api = try await FakeAPIServer.start()
        let kube = try KubeAPIClient(config: api.kubeConfig(), requestTimeout: .seconds(5))
        let live = ClusterBackend.live(LiveCluster(client: kube, cache: ClusterCache(), logger: .init(label: "test")))
        var c = ServeConfig()
        #expect(await Serve.nativeSidecars(c, backend: live, logger: .init(label: "test")), "the fake API server is 1.31")
        #expect(api.requests.filter { $0.path == "/version" }.count == 1)
        // The API server cannot say: plain sidecars, which work on every version.
        api.force(status: 500, reason: "InternalError", message: "boom")
        #expect(await Serve.nativeSidecars(c, backend: live, logger: .init(label: "test")) == false)
        // Configured: the API server is not asked.
        c.kubernetesVersion = "1.28"
        let asked = api.requests.count
        #expect(await Serve.nativeSidecars(c, backend: live, logger: .init(label: "test")) == false)
        c.kubernetesVersion = "v1.30.2"
        #expect(await Serve.nativeSidecars(c, backend: live, logger: .init(label: "test")))
        #expect(api.requests.count == asked)
        // Offline: a modern cluster is assumed.
        #expect(await Serve.nativeSidecars(ServeConfig(), backend: .fixed(ClusterCache()), logger: .init(label: "test")))
        if case .live(let l) = live { await l.shutdown() }
        await api.stop()
        #expect(MutationConfig.hasNativeSidecars(version: "1.29") == true)
        #expect(MutationConfig.hasNativeSidecars(version: "2.0") == true)
        #expect(MutationConfig.hasNativeSidecars(version: "one") == nil)
    }
}
