import ArgumentParser
import AsyncHTTPClient
import Foundation
import JSON
import KubeClient
import KubeTestServer
import Locality
import Logging
import Mutators
import NIOCore
import NIOHTTP1
import SchedulerExtender
import Synchronization
import TestSupport
import Testing

@testable import WebhookServer

@Suite("The locus command line", .serialized)
struct CLITests {
    static var curl: String? { ["/usr/bin/curl", "/bin/curl"].first { FileManager.default.isExecutableFile(atPath: $0) } }

    @Test func certsThenServeThenCurl() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let certs = try runProcess(
            locusExecutable, ["certs", "--out", dir.file("c"), "--dns", "localhost", "locus.locus-system.svc", "--ip", "127.0.0.1"])
        #expect(certs.status == 0, "\(certs.stderr)")
        let bundle = certs.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Data(base64Encoded: bundle).map { String(decoding: $0, as: UTF8.self) }?.contains("BEGIN CERTIFICATE") == true)
        let keyMode = try FileManager.default.attributesOfItem(atPath: dir.file("c/tls.key"))[.posixPermissions] as? Int
        #expect(keyMode == 0o600)

        let serve = try LocusProcess(
            ["serve", "--example", "--port", "0", "--cert", dir.file("c/tls.crt"), "--key", dir.file("c/tls.key")], cwd: dir.path)
        defer { serve.kill() }
        let port = try await serve.waitForPort()
        guard let curl = Self.curl else {
            Issue.record("curl is not installed (apt-get install curl)")
            return
        }
        let ok = try runProcess(
            curl, ["-sS", "--cacert", dir.file("c/ca.pem"), "-w", " %{http_code}", "https://127.0.0.1:\(port)/healthz"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "ok\n 200")
        let byName = try runProcess(
            curl, ["-sS", "--cacert", dir.file("c/ca.pem"), "-o", "/dev/null", "-w", "%{http_code}", "https://localhost:\(port)/readyz"])
        #expect(byName.stdout == "200")
        let old = try runProcess(
            curl, ["-sS", "--tlsv1.0", "--tls-max", "1.1", "--cacert", dir.file("c/ca.pem"), "https://127.0.0.1:\(port)/healthz"])
        #expect(old.status != 0, "a TLS 1.1 client is refused")
        let untrusted = try runProcess(curl, ["-sS", "https://127.0.0.1:\(port)/healthz"])
        #expect(untrusted.status != 0, "the server's CA is not a public one")
        serve.signal(SIGTERM)
        #expect(try await serve.wait() == 0)
    }

    @Test func serveWithoutCertificatesGeneratesThemAndSaysSo() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let serve = try LocusProcess(["serve", "--example", "--port", "0"], cwd: dir.path)
        defer { serve.kill() }
        let port = try await serve.waitForPort()
        #expect(serve.log.contains("generated a self-signed pair into certs/"))
        #expect(FileManager.default.fileExists(atPath: dir.file("certs/ca.pem")))
        let client = try makeClient(
            caPEM: String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir.file("certs/ca.pem"))), as: UTF8.self))
        let r = try await client.execute(.init(url: "https://localhost:\(port)/healthz"), timeout: .seconds(5))
        #expect(r.status == .ok)
        try await client.shutdown()
        serve.signal(SIGTERM)
        #expect(try await serve.wait() == 0)
    }

    /// `serve --cluster-state FILE` serves that file's cluster with no API server, and `/mutate`
    /// answers exactly what `locus mutate` prints for the same pod and file (one code path).
    @Test func serveAClusterStateFileAnswersLikeLocusMutate() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        // The example cluster with another FUSE DaemonSet image, so the answer can only come from this file.
        let state = ExampleState.yaml.replacingOccurrences(
            of: "image: fluidcloudnative/alluxio-fuse:2.9.0", with: "image: example.com/from-the-state-file:7.1")
        #expect(state != ExampleState.yaml)
        try dir.write("state.yaml", state)
        let podFile = "\(MutateCommandTests.examples)/train-sidecar.yaml"
        let offline = try runProcess(locusExecutable, ["mutate", podFile, "--cluster-state", dir.file("state.yaml"), "--output", "json"])
        #expect(offline.status == 0, "\(offline.stderr)")
        let expected = try #require(try JSONValue.parse(Data(offline.stdout.utf8))["patch"])
        #expect(expected.jsonString.contains("example.com/from-the-state-file:7.1"))

        let serve = try LocusProcess(["serve", "--cluster-state", dir.file("state.yaml"), "--port", "0"], cwd: dir.path)
        defer { serve.kill() }
        let port = try await serve.waitForPort()
        let client = try makeClient(
            caPEM: String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir.file("certs/ca.pem"))), as: UTF8.self))
        do {
            let pod = try YAMLBridge.parse(try String(contentsOfFile: podFile, encoding: .utf8), source: podFile)
            var request = HTTPClientRequest(url: "https://localhost:\(port)/mutate")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: admissionReview(pod: pod, uid: "state-1")))
            let r = try await client.execute(request, timeout: .seconds(10))
            #expect(r.status == .ok)
            let answer = try JSONValue.parse(Data(String(buffer: try await r.body.collect(upTo: 1 << 20)).utf8))
            #expect(answer["response"]?["uid"] == "state-1" && answer["response"]?["allowed"] == true)
            let b64 = try #require(answer["response"]?["patch"]?.stringValue)
            #expect(try JSONValue.parse(try #require(Data(base64Encoded: b64))) == expected)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        serve.signal(SIGTERM)
        #expect(try await serve.wait() == 0)
    }

    /// The commands `serve --example` prints are run as printed, by a shell, and each answers
    /// what the comment above it promises.
    @Test func examplePrintsCurlCommandsThatWork() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let serve = try LocusProcess(["serve", "--example", "--port", "0"], cwd: dir.path)
        defer { serve.kill() }
        let port = try await serve.waitForPort()
        let deadline = ContinuousClock.now + .seconds(5)
        while !serve.stdout.contains("Stop with Ctrl-C"), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let commands = serve.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("curl ") }
        #expect(commands.count == 5, "\(serve.stdout)")
        #expect(commands.allSatisfy { $0.contains("https://127.0.0.1:\(port)/") && $0.contains("--cacert \(dir.path)/certs/ca.pem") })
        func run(_ route: String) throws -> String {
            guard let c = commands.first(where: { $0.hasSuffix(route) }) else { throw TestFailure("no command for \(route)") }
            let r = try runProcess("/bin/sh", ["-c", c + " -sS"])
            #expect(r.status == 0, "\(c): \(r.stderr)")
            return r.stdout
        }
        #expect(try run("/readyz").hasPrefix("ready"))
        let review = try JSONValue.parse(Data(try run("/mutate").utf8))
        #expect(review["response"]?["allowed"] == .bool(true))
        guard case .string(let b64)? = review["response"]?["patch"], let patch = Data(base64Encoded: b64) else {
            Issue.record("no patch: \(review)")
            return
        }
        let ops = String(decoding: patch, as: UTF8.self)
        #expect(ops.contains("/spec/initContainers") && ops.contains("locus-vineyard-features"), "\(ops)")
        #expect(
            review["response"]?["warnings"]?[0]?.stringValue?.hasPrefix(
                "Locus wired ml/imagenet (alluxio) through a privileged FUSE native sidecar; ml/features (vineyard) through its "
                    + "shared-memory socket"
            ) == true,
            "the owner is told what was wired: \(review)")
        let filter = try JSONValue.parse(Data(try run("/filter").utf8))
        #expect(filter["NodeNames"] == .array([.string("node-a"), .string("node-b")]))
        #expect(filter["FailedAndUnresolvableNodes"]?["node-c"] != nil)
        #expect(try run("/prioritize") == #"[{"Host":"node-a","Score":10},{"Host":"node-b","Score":6}]"#)
        let metrics = try run("/metrics")
        for series in [
            #"locus_admission_reviews_total{outcome="mutated",engine="alluxio"} 1"#,
            #"locus_injections_total{engine="alluxio",how="fuse-native-sidecar"} 1"#,
            #"locus_injections_total{engine="vineyard",how="shared-memory"} 1"#,
            #"locus_extender_requests_total{verb="prioritize",outcome="cached_bytes"} 1"#,
            #"locus_extender_filtered_nodes_total 1"#,
            #"locus_extender_best_score_bucket{le="10.0"} 1"#,
            #"locus_locality_oldest_figure_age_seconds{source="cluster-state"}"#,
        ] {
            #expect(metrics.contains(series), "\(series) in \(metrics)")
        }
        serve.signal(SIGTERM)
        #expect(try await serve.wait() == 0)
    }

    /// SIGTERM arrives while request bodies are still being uploaded: every request is answered,
    /// then the process exits 0.
    @Test func sigtermDrainsInFlightRequests() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let certs = try WebhookServerTestCerts.make()
        try certs.write(to: dir.path)
        let serve = try LocusProcess(
            ["serve", "--example", "--port", "0", "--cert", dir.file("tls.crt"), "--key", dir.file("tls.key")],
            environment: ["LOCUS_SHUTDOWN_DELAY_SECONDS": "1.5"], cwd: dir.path)
        defer { serve.kill() }
        let port = try await serve.waitForPort()
        // A real AdmissionReview, padded with whitespace so its upload takes a while.
        let body = admissionReview(pod: makePod(claims: ["imagenet"])) + Array(repeating: UInt8(ascii: " "), count: 40_000)
        // Several clients at once, each mid-upload when SIGTERM arrives.
        let responses = (0..<4).map { _ in
            Task {
                try await SingleConnection.with(port: port, caPEM: [certs.caCertificatePEM]) { c in
                    try await c.request(.POST, "/mutate", body: body, slowBody: (chunks: 10, pause: .milliseconds(150)))
                }
            }
        }
        try await Task.sleep(for: .milliseconds(400))
        #expect(serve.process.isRunning)
        let signalled = ContinuousClock.now
        serve.signal(SIGTERM)
        // While endpoints would be updating: not ready, but a new connection is still served.
        try await Task.sleep(for: .milliseconds(300))
        let (readyz, newcomer) = try await SingleConnection.with(port: port, caPEM: [certs.caCertificatePEM]) { c in
            (
                try await c.request(.GET, "/readyz"),
                try await c.request(.POST, "/mutate", body: admissionReview(pod: makePod(claims: ["imagenet"])))
            )
        }
        #expect(readyz.status == 503 && readyz.body.contains("shutting down"), "\(readyz)")
        #expect(newcomer.status == 200 && newcomer.body.contains("\"allowed\":true"), "\(newcomer)")
        for response in responses {
            let (status, text) = try await response.value
            #expect(status == 200 && text.contains("\"allowed\":true"), "every in-flight request got its answer: \(text)")
        }
        #expect(try await serve.wait() == 0)
        #expect(ContinuousClock.now - signalled >= .milliseconds(1500), "the drain pause was kept")
        #expect(serve.log.contains("\"msg\":\"stopped\""))
    }

    @Test(arguments: [
        (["serve", "--bogus"], "Unknown option"),
        (["serve", "--example", "--cluster-state", "x.yaml"], "alternatives"),
        (["serve", "--cert", "only.pem"], "--cert and --key go together"),
        (["serve", "--example", "--cert", "missing.pem", "--key", "missing.key"], "certificate missing.pem is missing (no such file)"),
        (["serve", "--example", "--cert", "bad.yaml", "--key", "missing.key"], "certificate bad.yaml cannot be read as PEM"),
        (["serve", "--config", "bad.yaml"], "unknown key \"prot\""),
        (["serve", "--config", "badtype.yaml"], "port must be a whole number"),
        (["serve", "--config", "missing.yaml"], "config missing.yaml is missing (no such file)"),
        (["serve", "--cluster-state", "badstate.yaml"], "has kind FooRuntime"),
        (["serve", "--kubeconfig", "bad-kubeconfig"], "current-context is not set"),
        (["serve"], "no Kubernetes credentials"),
        (["certs", "--out", "o", "--ip", "300.1.1.1"], "not an IPv4 or IPv6 address"),
        (["certs"], "Missing expected argument '--out"),
        (["nosuch"], "Unexpected argument"),
    ])
    func badInputExitsTwoWithOneLine(args: [String], expected: String) throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        try dir.write("bad.yaml", "prot: 8443\n")
        try dir.write("badtype.yaml", "port: eighty\n")
        try dir.write("badstate.yaml", "runtimes:\n  - kind: FooRuntime\n    metadata: {name: x, namespace: ml}\n")
        try dir.write("bad-kubeconfig", "clusters: []\n")
        let r = try runProcess(locusExecutable, args, environment: ["PATH": "/usr/bin:/bin", "HOME": dir.path], cwd: dir.path)
        #expect(r.status == 2, "\(args): \(r.stderr)")
        // Log lines may come first; the reason is the one last line.
        let reasons = r.stderr.split(separator: "\n").filter { $0.hasPrefix("locus: ") }
        #expect(reasons.count == 1, "one reason line: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").last?.hasPrefix("locus: ") == true)
        #expect(reasons.first?.contains(expected) == true, "\(args): \(r.stderr)")
    }

    @Test func helpExitsZero() throws {
        let r = try runProcess(locusExecutable, ["serve", "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("--cluster-state"))
    }

    /// Credentials never reach the logs, even when the API server rejects them.
    @Test func logsNeverContainTheToken() async throws {
        let api = try await FakeAPIServer.start()
        defer { Task { await api.stop() } }
        api.setRequiredToken("the-right-one")
        let dir = try TempDir()
        defer { dir.cleanup() }
        try dir.write("api-ca.pem", api.certificates.caCertificatePEM)
        let secret = "sk-SUPER-SECRET-TOKEN-0123456789"
        try dir.write(
            "kubeconfig",
            """
            current-context: c
            clusters: [{name: k, cluster: {server: "\(api.url.absoluteString)", certificate-authority: api-ca.pem}}]
            contexts: [{name: c, context: {cluster: k, user: u}}]
            users: [{name: u, user: {token: \(secret)}}]
            """)
        let serve = try LocusProcess(
            ["serve", "--kubeconfig", dir.file("kubeconfig"), "--port", "0", "--log-level", "debug"], cwd: dir.path)
        defer { serve.kill() }
        _ = try await serve.waitForPort()
        #expect(await eventually { serve.log.contains("401") })
        #expect(api.requests.contains { $0.authorization == "Bearer \(secret)" }, "the token was used")
        serve.signal(SIGTERM)
        _ = try await serve.wait()
        #expect(!serve.log.contains(secret))
        #expect(!serve.log.contains("SUPER-SECRET"))
        // Every line is one JSON object.
        for line in serve.log.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "not JSON: \(line)")
        }
    }

    @Test func configPrecedenceFileThenEnvironmentThenFlags() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        try dir.write("locus.yaml", "port: 9000\naddress: 10.0.0.1\nlogLevel: debug\ncertReloadSeconds: 2\nmaxRequestBytes: 4096\n")
        var serve = try Serve.parse(["--config", dir.file("locus.yaml")])
        var c = try serve.resolve(environment: [:])
        #expect(c.port == 9000 && c.address == "10.0.0.1" && c.logLevel == .debug && c.certReloadSeconds == 2 && c.maxRequestBytes == 4096)
        c = try serve.resolve(environment: ["LOCUS_PORT": "9100", "LOCUS_LOG_LEVEL": "warning"])
        #expect(c.port == 9100 && c.logLevel == .warning && c.address == "10.0.0.1")
        serve = try Serve.parse(["--config", dir.file("locus.yaml"), "--port", "9200"])
        c = try serve.resolve(environment: ["LOCUS_PORT": "9100"])
        #expect(c.port == 9200)
        #expect(ServeConfig.environmentName("certReloadSeconds") == "LOCUS_CERT_RELOAD_SECONDS")
        #expect(ServeConfig.environmentName("localityTTLSeconds") == "LOCUS_LOCALITY_TTL_SECONDS")
        #expect(try serve.resolve(environment: ["LOCUS_LOCALITY_TTL_SECONDS": "30"]).localityTTLSeconds == 30)
        #expect(throws: ConfigError.self) { try serve.resolve(environment: ["LOCUS_PORT": "-1"]) }
        #expect(throws: ConfigError.self) { try serve.resolve(environment: ["LOCUS_LOG_FORMAT": "xml"]) }
        var empty = ServeConfig()
        try empty.apply(yaml: "", source: "empty")
        #expect(empty == ServeConfig())
        #expect(throws: ConfigError.self) { try empty.apply(yaml: "- a list", source: "list") }
    }

    /// Each stored property of `ServeConfig` is one key of `ServeConfig.keys`, named as the property,
    /// with an environment variable of its own; each flag that sets a key names an existing key.
    @Test func everyConfigPropertyIsOneKeyAndEveryKeyFlagNamesOne() throws {
        let keys = ServeConfig.keys
        let properties = Mirror(reflecting: ServeConfig()).children.compactMap(\.label)
        #expect(keys.map(\.name).sorted() == properties.sorted())
        for key in keys {
            #expect("\(key.property)" == "\\ServeConfig.\(key.name)", "key \(key.name) sets \(key.property)")
        }
        #expect(Set(keys.map(\.environmentName)).count == keys.count)
        let help = Serve.helpMessage()
        let flags = try Serve.parse([]).keyFlags
        #expect(flags.count == 8)
        for flag in flags {
            #expect(ServeConfig.keysByName[flag.key] != nil, "\(flag.name) sets \(flag.key), which is not a key")
            #expect(help.contains(flag.name + " "), "\(flag.name) is not a flag of locus serve")
        }
        // What goes into the admission policy and the extender's config has their defaults.
        #expect(ServeConfig().extenderConfig == ExtenderConfig())
        #expect(ServeConfig().admissionPolicy(nativeSidecars: true) == AdmissionPolicy())
    }

    /// Every key refuses a value it cannot take with an error naming the source and the key.
    @Test func everyKeyRefusesAMappingNamingItself() {
        for key in ServeConfig.keys {
            var c = ServeConfig()
            do {
                try c.set(key.name, ["a": 1] as [String: Any], source: "config x.yaml")
                Issue.record("\(key.name) took a mapping")
            } catch let error as ConfigError {
                #expect(error.description.hasPrefix("config x.yaml: \(key.name) must be "), "\(error)")
            } catch {
                Issue.record("\(key.name): \(error)")
            }
        }
    }
}

@Suite("locus mutate")
struct MutateCommandTests {
    static let examples = "\(Repository.root)/examples"

    @Test func explainsPatchesAndPrintsTheMutatedPod() throws {
        let r = try runProcess(locusExecutable, ["mutate", "\(Self.examples)/train-sidecar.yaml"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("MUTATED pod train (engines: alluxio)"))
        #expect(
            r.stdout.contains(
                "[fuse-native-sidecar] added AlluxioRuntime FUSE container locus-fuse-imagenet (fluidcloudnative/alluxio-fuse:2.9.0), "
                    + "copied from the first container of FUSE DaemonSet ml/imagenet-fuse"
            ), "\(r.stdout)")
        #expect(r.stdout.contains(#"{"op":"add","path":"/spec/initContainers","#))
        #expect(r.stdout.contains("Mutated pod:\napiVersion: v1"))
        #expect(r.stderr.contains("built-in example"))
        let diff = try runProcess(locusExecutable, ["mutate", "\(Self.examples)/serve-vineyard.yaml", "--diff"])
        #expect(diff.stdout.contains("+       mountPropagation: HostToContainer"), "\(diff.stdout)")
        #expect(diff.stdout.contains("      locus.dev/inject: \"true\""), "strings that look like booleans stay quoted")
    }

    @Test func jsonOutputIsTheWholeDecision() throws {
        let r = try runProcess(locusExecutable, ["mutate", "\(Self.examples)/serve-vineyard.yaml", "--output", "json"])
        #expect(r.status == 0)
        let v = try JSONValue.parse(Data(r.stdout.utf8))
        #expect(v["outcome"] == "mutated" && v["allowed"] == true)
        #expect(v["engines"] == ["juicefs", "vineyard"])
        #expect((v["patch"]?.arrayValue?.count ?? 0) > 3)
        #expect(v["pod"]?["spec"]?["containers"]?[0]?["env"]?[0]?["name"] == "VINEYARD_IPC_SOCKET")
        #expect(v["warnings"]?[0]?.stringValue?.hasPrefix("Locus wired ml/llama-weights (juicefs) through the node's FUSE") == true, "\(v)")
        // YAML carries the same decision; `pod` the mutated pod alone.
        let y = try runProcess(locusExecutable, ["mutate", "\(Self.examples)/serve-vineyard.yaml", "--output", "yaml"])
        #expect(try YAMLBridge.parse(y.stdout, source: "stdout") == v)
        let pod = try runProcess(locusExecutable, ["mutate", "\(Self.examples)/serve-vineyard.yaml", "--output", "pod"])
        #expect(try YAMLBridge.parse(pod.stdout, source: "stdout") == v["pod"])
    }

    /// A cluster-state file without DaemonSets: the sidecar is built from the runtime's
    /// `spec.fuse`, and `locus mutate` says it is not the container Fluid's DaemonSet runs.
    @Test func aClusterStateWithoutDaemonSetsSaysTheSidecarIsBuiltFromSpecFuse() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let state = ExampleState.yaml
        let start = try #require(state.range(of: "# The runtimes' FUSE DaemonSets"))
        let end = try #require(state.range(of: "\ncache:\n"))
        try dir.write("state.yaml", String(state[..<start.lowerBound]) + String(state[state.index(after: end.lowerBound)...]))
        let r = try runProcess(
            locusExecutable, ["mutate", "\(Self.examples)/train-sidecar.yaml", "--cluster-state", dir.file("state.yaml")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout.contains(
                "built from AlluxioRuntime ml/imagenet's spec.fuse, because the cluster state carries no DaemonSets: not the container "
                    + "Fluid's FUSE DaemonSet runs"
            ), "\(r.stdout)")
    }

    @Test func aClusterStateFileAndADenial() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        try dir.write("state.yaml", "datasets: []\n")
        try dir.write(
            "pod.yaml",
            "kind: Pod\napiVersion: v1\nmetadata: {name: x, labels: {locus.dev/inject: \"true\"}, annotations: {locus.dev/datasets: "
                + "imagenet}}\nspec: {containers: [{name: a, image: b}]}\n"
        )
        let r = try runProcess(locusExecutable, ["mutate", dir.file("pod.yaml"), "--cluster-state", dir.file("state.yaml")])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("DENIED pod x: Locus denied the pod: dataset default/imagenet: no such Dataset"), "\(r.stdout)")
    }

    @Test(arguments: [
        (["mutate", "/nonexistent.yaml"], "pod /nonexistent.yaml is missing (no such file)"),
        (["mutate", "Package.swift"], "not valid YAML or JSON"),
        (["mutate", "manifests/service.yaml"], "expected kind: Pod, got \"Service\""),
        (["mutate", "examples/train-sidecar.yaml", "--output", "xml"], "xml"),
        (
            ["mutate", "examples/train-sidecar.yaml", "--cluster-state", "/nonexistent.yaml"],
            "cluster state /nonexistent.yaml is missing (no such file)"
        ),
    ])
    func badInputExits2WithOneLine(args: [String], reason: String) throws {
        let r = try runProcess(locusExecutable, args, cwd: Repository.root)
        #expect(r.status == 2, "\(args): \(r.stderr)")
        #expect(r.stderr.contains(reason), "\(r.stderr)")
    }
}

@Suite("locus score")
struct ScoreCommandTests {
    @Test func explainsVerdictsScoresAndBytes() throws {
        let r = try runProcess(locusExecutable, ["score", "\(MutateCommandTests.examples)/serve-vineyard.yaml"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "pod ml/feature-server: datasets ml/llama-weights (juicefs), ml/features (vineyard)")
        #expect(lines.contains { $0.hasPrefix("node-b  score 10/10  ml/features: 2.0 GiB memory; ml/llama-weights: 26.0 GiB ssd") })
        #expect(lines.contains { $0.hasPrefix("node-c  FILTERED  node node-c runs no VineyardRuntime worker") })
        let json = try runProcess(locusExecutable, ["score", "\(MutateCommandTests.examples)/train-sidecar.yaml", "--output", "json"])
        let v = try JSONValue.parse(Data(json.stdout.utf8))
        #expect(v["nodes"]?.arrayValue?.map { $0["node"]?.stringValue ?? "" } == ["node-a", "node-b", "node-c"])
        #expect(v["nodes"]?[0]?["score"] == 10 && v["nodes"]?[0]?["bytes"]?["ml/imagenet"]?["memory"] == .integer(40 << 30))
        let yaml = try runProcess(locusExecutable, ["score", "\(MutateCommandTests.examples)/train-sidecar.yaml", "--output", "yaml"])
        #expect(try YAMLBridge.parse(yaml.stdout, source: "stdout") == v)
    }

    @Test func badCacheEntriesInAClusterStateExit2() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        try dir.write("state.yaml", "cache:\n  - {node: a, dataset: noslash, ssd: 1Gi}\n")
        let r = try runProcess(
            locusExecutable, ["score", "examples/train-sidecar.yaml", "--cluster-state", dir.file("state.yaml")],
            cwd: Repository.root)
        #expect(r.status == 2)
        #expect(r.stderr.contains("dataset \"noslash\" must be namespace/name"), "\(r.stderr)")
        try dir.write("state2.yaml", "cache:\n  - {node: a, dataset: ml/x, ssd: lots}\n")
        let r2 = try runProcess(
            locusExecutable, ["score", "examples/train-sidecar.yaml", "--cluster-state", dir.file("state2.yaml")],
            cwd: Repository.root)
        #expect(r2.status == 2 && r2.stderr.contains("ssd \"lots\" is not a byte amount"), "\(r2.stderr)")
    }
}
