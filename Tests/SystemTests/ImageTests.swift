import Foundation
import JSON
import KubeClient
import TestSupport
import Testing

@testable import WebhookServer

/// The image `scripts/build-image` makes, run the way `manifests/deployment.yaml` runs it: the
/// Deployment's pod template as it is (user 65532, read-only root filesystem, no capabilities,
/// no privilege escalation), the image this machine built in place of the registry's, the
/// certificates from a Secret volume laid out as the kubelet lays it out (and rotated the way
/// the kubelet rotates it), the configuration from `manifests/config.yaml`, and the cluster
/// objects from `--cluster-state`. Everything is checked from outside the container.
@Suite("The image, run as the Deployment runs it", .serialized)
struct ImageTests {
    static let tag = ProcessInfo.processInfo.environment["LOCUS_IMAGE"] ?? "localhost/locus:dev"
    static let root = Repository.root

    /// The image, built with `scripts/build-image` when this machine does not have it yet.
    static func image() async throws -> String {
        if try await Podman.shared.run(["image", "exists", tag]).status == 0 { return tag }
        let r = try await offThePool { try runProcess("/bin/bash", ["\(root)/scripts/build-image", tag], cwd: root) }
        try #require(r.status == 0, "scripts/build-image: \(r.stdout)\(r.stderr)")
        return tag
    }

    static func manifest(_ file: String, kind: String) throws -> JSONValue {
        let text = try String(contentsOfFile: "\(root)/manifests/\(file)", encoding: .utf8)
        return try #require(try YAMLBridge.parseAll(text, source: file).first { $0["kind"]?.stringValue == kind })
    }

    /// What one run needs on the host: the Secret's and ConfigMap's contents, the cluster state.
    struct Inputs {
        var secret: [String: String]
        var config: String
        var secretItems: JSONValue?
    }

    /// The Deployment's pod: its template unchanged except the image (this machine's build), a
    /// port of its own (`--port`, pods here share the host's network) and the cluster state
    /// (`--cluster-state`: the example state, written into `dir` and mounted from a read-only
    /// hostPath volume); the Secret and ConfigMap as given.
    static func pod(image: String, port: Int, dir: TempDir, inputs: Inputs) throws -> (pod: JSONValue, runner: PodRunner, grace: Int) {
        let stateDir = dir.file("state")
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        try dir.write("state/cluster-state.yaml", ExampleState.yaml)
        let deployment = try manifest("deployment.yaml", kind: "Deployment")
        var pod = try #require(deployment["spec"]?["template"])
        pod["apiVersion"] = "v1"
        pod["kind"] = "Pod"
        var spec = try #require(pod["spec"])
        var containers = try #require(spec["containers"]?.arrayValue)
        try #require(containers.count == 1)
        var locus = containers[0]
        let deployedImage = try #require(locus["image"]?.stringValue)
        locus["args"] = .array(
            (locus["args"]?.arrayValue ?? []) + ["--port", .string("\(port)"), "--cluster-state", "/etc/locus/state/cluster-state.yaml"])
        locus["volumeMounts"] = .array(
            (locus["volumeMounts"]?.arrayValue ?? []) + [["name": "cluster-state", "mountPath": "/etc/locus/state", "readOnly": true]])
        containers[0] = locus
        spec["containers"] = .array(containers)
        var volumes = spec["volumes"]?.arrayValue ?? []
        if let items = inputs.secretItems, let i = volumes.firstIndex(where: { $0["secret"] != nil }) {
            volumes[i]["secret"]?["items"] = items
        }
        spec["volumes"] = .array(volumes + [["name": "cluster-state", "hostPath": ["path": .string(stateDir), "type": "Directory"]]])
        pod["spec"] = spec
        let secretName = try #require(volumes.first { $0["secret"] != nil }?["secret"]?["secretName"]?.stringValue)
        let configName = try #require(volumes.first { $0["configMap"] != nil }?["configMap"]?["name"]?.stringValue)
        var runner = PodRunner(images: [deployedImage: PodRunner.Image(local: image)])
        runner.objects.secrets[secretName] = inputs.secret
        runner.objects.configMaps[configName] = ["config.yaml": inputs.config]
        let grace = Int(spec["terminationGracePeriodSeconds"]?.int64Value ?? 30)  // the API server's default
        return (pod, runner, grace)
    }

    static func deployedConfig() throws -> String {
        try #require(try manifest("config.yaml", kind: "ConfigMap")["data"]?["config.yaml"]?.stringValue)
    }

    /// `curl` from the host (a new connection each time), trusting `ca`: status code and body.
    static func curl(_ port: Int, _ path: String, ca: String, body: String? = nil) throws -> (code: Int, body: String) {
        var args = ["-sS", "--max-time", "5", "--cacert", ca, "-o", "-", "-w", "\n%{http_code}"]
        if let body { args += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let r = try runProcess(try executable("curl"), args + ["https://127.0.0.1:\(port)\(path)"])
        guard r.status == 0, let newline = r.stdout.lastIndex(of: "\n") else { return (0, r.stderr) }
        return (Int(r.stdout[r.stdout.index(after: newline)...]) ?? 0, String(r.stdout[..<newline]))
    }

    static func logs(_ container: String) async -> String {
        (try? await Podman.shared.run(["logs", container]).combined) ?? "(no logs)"
    }

    /// /proc/PID/status fields of the container's first process, seen from the host.
    static func processStatus(_ container: String) async throws -> (status: [String: String], rootMountOptions: String) {
        let pid = try await Podman.shared.run(["inspect", "--format", "{{.State.Pid}}", container]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        var status: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { status[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        let mounts = try String(contentsOfFile: "/proc/\(pid)/mountinfo", encoding: .utf8)
        let rootLine = mounts.split(separator: "\n").map { $0.split(separator: " ") }.first { $0.count > 5 && $0[4] == "/" }
        return (status, rootLine.map { String($0[5]) } ?? "")
    }

    @Test func imageIsSmallAndLaidOutAsTheDockerfileSays() async throws {
        let image = try await Self.image()
        let size = try await Podman.shared.run(["image", "inspect", "--format", "{{.Size}}", image]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let bytes = try #require(Int(size))
        #expect(bytes < 100_000_000, "the image is \(bytes) bytes")
        let config = try await Podman.shared.run(["image", "inspect", "--format", "{{.Config.User}} {{json .Config.Entrypoint}}", image])
            .stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let dockerfile = try String(contentsOfFile: "\(Self.root)/Dockerfile", encoding: .utf8).split(separator: "\n")
        let user = try #require(dockerfile.last { $0.hasPrefix("USER ") }).dropFirst(5)
        let entrypoint = try #require(dockerfile.last { $0.hasPrefix("ENTRYPOINT ") }).dropFirst(11).replacingOccurrences(of: " ", with: "")
        #expect(config == "\(user) \(entrypoint)", "image: \(config); Dockerfile: USER \(user), ENTRYPOINT \(entrypoint)")
        #expect(user == "65532:65532")
    }

    @Test func servesAsDeployedRotatesItsCertificateAndStopsOnSIGTERM() async throws {
        let image = try await Self.image()
        let dir = try TempDir()
        defer { dir.cleanup() }
        let first = try CertGenerator.generate(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        let second = try CertGenerator.generate(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        try dir.write("ca-1.pem", first.caCertificatePEM)
        try dir.write("ca-2.pem", second.caCertificatePEM)
        let port = freePort()
        let (pod, runner, grace) = try Self.pod(
            image: image, port: port, dir: dir,
            inputs: .init(secret: ["tls.crt": first.certificatePEM, "tls.key": first.keyPEM], config: try Self.deployedConfig()))
        let started = try await runner.startPod(pod)
        do {
            try await Self.exercise(started, runner: runner, port: port, grace: grace, dir: dir, rotateTo: second)
        } catch {
            await runner.remove(started)
            throw error
        }
        await runner.remove(started)
    }

    /// The checks on a running pod of the Deployment; ends by stopping it.
    static func exercise(
        _ started: PodRunner.StartedPod, runner: PodRunner, port: Int, grace: Int, dir: TempDir, rotateTo second: GeneratedCertificates
    ) async throws {
        let container = started.container("locus")

        let ready = try await eventually(timeout: .seconds(30)) { try curl(port, "/readyz", ca: dir.file("ca-1.pem")).code == 200 }
        if !ready { Issue.record("not ready: \(await logs(container))") }
        try #require(ready)

        // As the Deployment asks: not root, nothing writable, no capabilities, no new privileges.
        let (status, rootOptions) = try await processStatus(container)
        #expect(status["Uid"]?.split(separator: "\t").allSatisfy { $0 == "65532" } == true, "Uid: \(status["Uid"] ?? "?")")
        #expect(status["Gid"]?.split(separator: "\t").allSatisfy { $0 == "65532" } == true, "Gid: \(status["Gid"] ?? "?")")
        #expect(status["CapEff"] == "0000000000000000" && status["CapPrm"] == "0000000000000000", "CapEff \(status["CapEff"] ?? "?")")
        #expect(status["NoNewPrivs"] == "1")
        #expect(status["Seccomp"] == "2", "RuntimeDefault seccomp: \(status["Seccomp"] ?? "?")")
        #expect(rootOptions.split(separator: ",").first == "ro", "root mounted \(rootOptions)")

        // Every route a cluster uses, from outside the container.
        let ca1 = dir.file("ca-1.pem")
        #expect(try curl(port, "/healthz", ca: ca1) == (200, "ok\n"))
        #expect(try curl(port, "/readyz", ca: ca1) == (200, "ready\n"))
        let bodies = Dictionary(ExampleState.requests.map { ($0.route, $0.body) }, uniquingKeysWith: { a, _ in a })
        let mutateBody: String = try #require(bodies["/mutate"])
        let prioritizeBody: String = try #require(bodies["/prioritize"])
        let mutate = try curl(port, "/mutate", ca: ca1, body: mutateBody)
        #expect(mutate.code == 200)
        let review = try JSONValue.parse(Data(mutate.body.utf8))
        #expect(review["response"]?["allowed"] == .bool(true), "\(mutate.body)")
        let patch = try #require(review["response"]?["patch"]?.stringValue.flatMap { Data(base64Encoded: $0) })
        #expect(String(decoding: patch, as: UTF8.self).contains("/spec/"), "the pod is wired: \(String(decoding: patch, as: UTF8.self))")
        let prioritize = try curl(port, "/prioritize", ca: ca1, body: prioritizeBody)
        #expect(prioritize == (200, #"[{"Host":"node-a","Score":10},{"Host":"node-b","Score":6}]"#))

        // The kubelet's rotation: a new payload folder, `..data` swapped to it in one rename.
        #expect(try curl(port, "/healthz", ca: dir.file("ca-2.pem")).code == 0, "the second CA is not served yet")
        let tls = try #require(started.volumes["tls"])
        try AtomicWriter.write(
            PodRunner.files(["tls.crt": second.certificatePEM, "tls.key": second.keyPEM], items: nil, mode: 0o644), to: tls)
        let rotated = try await eventually(timeout: .seconds(30)) { try curl(port, "/healthz", ca: dir.file("ca-2.pem")).code == 200 }
        if !rotated { Issue.record("new connections do not get the new certificate: \(await logs(container))") }
        #expect(try curl(port, "/healthz", ca: ca1).code == 0, "new connections no longer get the old one")

        // Deleting the pod: SIGTERM, and exit 0 well within the grace period.
        let (code, seconds, logs) = try await runner.stop(started, container: "locus", grace: grace)
        #expect(code == 0, "exit code \(code): \(logs)")
        #expect(seconds < Double(grace), "took \(seconds) s of \(grace) s")
        #expect(!logs.contains("\"level\":\"error\""), "\(logs)")
    }

    /// What operators get wrong when deploying is said at start-up, in one line, with exit 2.
    @Test(arguments: [
        (
            "a key the user cannot read", "key",
            #"key /etc/locus/tls/tls.key cannot be read: permission denied (locus runs as uid 65532, gid 65532)"#
        ),
        ("a Secret without the key", "missing", #"key /etc/locus/tls/tls.key is missing (no such file)"#),
        ("a misspelt configuration key", "config", #"unknown key "logLevle""#),
    ])
    func startUpErrorsSayWhatIsWrong(_ what: String, _ mistake: String, _ expected: String) async throws {
        let image = try await Self.image()
        let dir = try TempDir()
        defer { dir.cleanup() }
        let pair = try CertGenerator.generate(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        var inputs = Inputs(secret: ["tls.crt": pair.certificatePEM, "tls.key": pair.keyPEM], config: try Self.deployedConfig())
        switch mistake {
        case "key":  // the Secret volume's files are root's; 0600 leaves user 65532 out
            inputs.secretItems = [["key": "tls.crt", "path": "tls.crt"], ["key": "tls.key", "path": "tls.key", "mode": 0o600]]
        case "missing":
            inputs.secret["tls.key"] = nil
        default:
            inputs.config += "logLevle: debug\n"
        }
        let (pod, runner, _) = try Self.pod(image: image, port: freePort(), dir: dir, inputs: inputs)
        let run = try await runner.run(pod, waitFor: ["locus"], timeout: .seconds(30))
        #expect(run.exitCodes["locus"] == 2, "\(what): \(run.events) \(run.logs)")
        let logs = run.logs["locus"] ?? ""
        #expect(logs.contains(expected), "\(what): \(logs)")
    }
}
