import Controllers
import Foundation
import JSON
import KubeTestServer
import Locality
import Logging
import Mutators
import NIOCore
import TestSupport
import Testing

@testable import KubeClient
@testable import WebhookServer

@Suite("manifests/: valid, least-privilege, and in step with the code")
struct ManifestTests {
    static let dir = "\(Repository.root)/manifests"

    static func documents(_ file: String) throws -> [JSONValue] {
        try YAMLBridge.parseAll(try String(contentsOfFile: "\(dir)/\(file)", encoding: .utf8), source: file)
    }

    @Test func everyManifestIsAValidObjectOfItsKind() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.dir).filter { $0.hasSuffix(".yaml") }.sorted()
        let kustomization = try #require(try Self.documents("kustomization.yaml").first)
        let listed = Set(kustomization["resources"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        #expect(listed == Set(files).subtracting(["kustomization.yaml"]), "kustomization lists every manifest")
        let r = try Repository.python(["manifests"] + files.map { "\(Self.dir)/\($0)" })
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasPrefix("ok "), "\(r.stdout)")
    }

    /// The kustomization's `images:` entry names the Deployment's image, so setting the image
    /// there (README, "Deploy") changes what the Deployment runs.
    @Test func kustomizationSetsTheDeploymentsImage() throws {
        let kustomization = try #require(try Self.documents("kustomization.yaml").first)
        let deployment = try #require(try Self.documents("deployment.yaml").first { $0["kind"] == "Deployment" })
        let image = try #require(deployment["spec"]?["template"]?["spec"]?["containers"]?[0]?["image"]?.stringValue)
        let entry = try #require(kustomization["images"]?[0])
        let name = try #require(entry["name"]?.stringValue)
        #expect(image.hasPrefix(name + ":") || image.hasPrefix(name + "@"), "images[0].name \(name) does not match \(image)")
        #expect("\(entry["newName"]?.stringValue ?? name):\(entry["newTag"]?.stringValue ?? "")" == image)
    }

    /// The ClusterRole grants get/list/watch on exactly what the informers read.
    @Test func rbacIsReadOnlyAndExactlyWhatTheInformersRead() async throws {
        let api = try await FakeAPIServer.start()
        let kube = try KubeAPIClient(config: api.kubeConfig(token: "t"), requestTimeout: .seconds(5))
        let live = LiveCluster(client: kube, cache: ClusterCache(), logger: .init(label: "test"))
        // Two informers may read one resource ("daemonsets.apps (metadata)"): the resource is the name's first word.
        let informed = Set(live.syncState.map { String($0.resource.prefix { $0 != " " }) })
        await live.shutdown()
        await api.stop()

        let role = try #require(try Self.documents("rbac.yaml").first { $0["kind"] == "ClusterRole" })
        var granted = Set<String>()
        for rule in role["rules"]?.arrayValue ?? [] {
            #expect(Set(rule["verbs"]?.arrayValue?.compactMap(\.stringValue) ?? []) == ["get", "list", "watch"])
            for group in rule["apiGroups"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                for resource in rule["resources"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                    granted.insert(group.isEmpty ? resource : "\(resource).\(group)")
                }
            }
        }
        #expect(granted == informed)
        #expect(!granted.contains("secrets"))
    }

    /// The warm-up component grants exactly what the warm-up controller and the leader election
    /// call (beyond the base's reads), as seen by the in-process API server in one warm-up; its
    /// RBAC is valid, and its kustomization names its files.
    @Test func warmUpComponentGrantsExactlyWhatTheControllerCalls() async throws {
        let dir = "components/warm-up"
        let component = try #require(try Self.documents("\(dir)/kustomization.yaml").first)
        #expect(component["kind"] == "Component" && component["apiVersion"] == "kustomize.config.k8s.io/v1alpha1")
        let named =
            (component["resources"]?.arrayValue ?? []).compactMap(\.stringValue)
            + (component["patches"]?.arrayValue ?? []).compactMap { $0["path"]?.stringValue }
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(Self.dir)/\(dir)").filter { $0 != "kustomization.yaml" }
        #expect(Set(named) == Set(files))
        let r = try Repository.python(["manifests", "\(Self.dir)/\(dir)/rbac.yaml"])
        #expect(r.status == 0 && r.stdout.hasPrefix("ok "), "\(r.stdout)\(r.stderr)")

        func grants(_ file: String) throws -> Set<String> {
            var out = Set<String>()
            for role in try Self.documents(file) where role["kind"] == "ClusterRole" || role["kind"] == "Role" {
                for rule in role["rules"]?.arrayValue ?? [] {
                    for group in rule["apiGroups"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                        for resource in rule["resources"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                            for verb in rule["verbs"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                                out.insert("\(verb) \(group.isEmpty ? resource : "\(resource).\(group)")")
                            }
                        }
                    }
                }
            }
            return out
        }
        let base = try grants("rbac.yaml")
        let added = try grants("\(dir)/rbac.yaml")
        #expect(added.isDisjoint(with: base))

        // One warm-up, and a few rounds of leader election, against the in-process API server.
        let h = try await WarmUpHarness()
        h.api.serve(Resource.leases.path(), kind: "Lease")
        let elector = LeaderElector(
            client: h.client, namespace: "locus-system", name: "locus", identity: "a",
            timings: LeaseTimings(leaseDuration: 1.5, renewDeadline: 1, retryPeriod: 0.2), logger: .init(label: "test"))
        let electing = Task { await elector.run() }
        try await h.create("uses-rbac", claims: ["llama-weights"])
        #expect(await eventually { (try? await h.dataLoads("llama-weights").count) == 1 })
        h.finish(try #require(try await h.dataLoads("llama-weights").first), phase: "Complete")
        #expect(await h.lifted("uses-rbac"))
        #expect(await eventually { h.api.requests.contains { $0.method == "PUT" && $0.path.hasSuffix("/leases/locus") } }, "renewed")
        electing.cancel()
        await electing.value
        // The test's own calls (creating the pod, reading what happened) are not the controller's.
        let own = Set(["create pods", "get pods", "list events", "list dataloads.data.fluid.io"])
        var called = Set<String>()
        for req in h.api.requests {
            guard let (collection, _, name) = FakeAPIServer.route(req.path) else { continue }
            let parts = collection.split(separator: "/")
            let resource = parts.count == 3 ? String(parts[2]) : "\(parts[parts.count - 1]).\(parts[1])"
            let verb: String
            switch req.method {
            case "GET": verb = name != nil ? "get" : (req.query["watch"] == "true" ? "watch" : "list")
            case "POST": verb = "create"
            case "PUT": verb = "update"
            case "PATCH": verb = "patch"
            default: verb = req.method
            }
            called.insert("\(verb) \(resource)")
        }
        await h.stop()
        #expect(called.subtracting(own).isSubset(of: base.union(added)), "\(called.subtracting(base.union(added)))")
        #expect(added.isSubset(of: called), "granted but never called: \(added.subtracting(called))")
    }

    @Test func webhookConfigurationMatchesTheDesign() throws {
        let config = try #require(try Self.documents("webhook.yaml").first)
        let hooks = config["webhooks"]?.arrayValue ?? []
        #expect(hooks.count == 4)
        var optInLabels = Set<String>()
        for h in hooks {
            #expect(h["sideEffects"] == "None")
            #expect(h["reinvocationPolicy"] == "IfNeeded")
            #expect(h["admissionReviewVersions"] == ["v1", "v1beta1"])
            #expect(h["failurePolicy"] == "Fail")
            #expect((h["timeoutSeconds"]?.int64Value ?? 99) <= 15)
            #expect(h["clientConfig"]?["service"] == ["name": "locus", "namespace": "locus-system", "path": "/mutate", "port": 443])
            #expect(h["rules"]?[0]?["operations"] == ["CREATE"] && h["rules"]?[0]?["resources"] == ["pods"])
            for (k, v) in h["objectSelector"]?["matchLabels"]?.objectValue ?? [:] where v == "true" { optInLabels.insert(k) }
            if h["namespaceSelector"]?["matchLabels"]?["locus.dev/inject"] == "true" { optInLabels.insert("namespace:locus.dev/inject") }
        }
        #expect(
            optInLabels == [
                "locus.dev/inject", "serverless.fluid.io/inject", "fuse.serverful.fluid.io/inject", "namespace:locus.dev/inject",
            ])
    }

    /// The shipped config file is valid for `locus serve`, and its onFailure pairs with the failurePolicy.
    @Test func shippedConfigIsValidAndPairsWithTheFailurePolicy() throws {
        let cm = try #require(try Self.documents("config.yaml").first)
        var c = ServeConfig()
        try c.apply(yaml: try #require(cm["data"]?["config.yaml"]?.stringValue), source: "manifests/config.yaml")
        try c.validate()
        #expect(c.onFailure == .deny)
        let deployment = try #require(try Self.documents("deployment.yaml").first { $0["kind"] == "Deployment" })
        #expect(deployment["spec"]?["replicas"] == 2)
        let container = deployment["spec"]?["template"]?["spec"]?["containers"]?[0]
        #expect(container?["readinessProbe"]?["httpGet"]?["path"] == "/readyz")
        #expect(container?["livenessProbe"]?["httpGet"]?["path"] == "/healthz")
        #expect(container?["args"] == ["serve", "--config", "/etc/locus/config/config.yaml"])
        #expect(c.certFile == "/etc/locus/tls/tls.crt")
        #expect(container?["resources"]?["requests"]?["cpu"] != nil && container?["resources"]?["requests"]?["memory"] != nil)
        #expect(container?["resources"]?["limits"]?["memory"] != nil, "a memory limit, so a leak cannot take the node")
        // The probes and the Service reach the port Locus serves on.
        let port = try #require(container?["ports"]?[0])
        #expect(port["containerPort"]?.int64Value == Int64(c.port))
        #expect(
            container?["readinessProbe"]?["httpGet"]?["port"] == port["name"]
                && container?["readinessProbe"]?["httpGet"]?["scheme"] == "HTTPS")
        let podLabels = try #require(deployment["spec"]?["template"]?["metadata"]?["labels"]?.objectValue)
        func selects(_ selector: JSONValue?) -> Bool {
            guard let wanted = selector?.objectValue, !wanted.isEmpty else { return false }
            return wanted.allSatisfy { podLabels[$0.key] == $0.value }
        }
        let service = try #require(try Self.documents("service.yaml").first { $0["kind"] == "Service" })
        #expect(selects(service["spec"]?["selector"]))
        #expect(service["spec"]?["ports"]?[0]?["port"] == 443 && service["spec"]?["ports"]?[0]?["targetPort"] == port["name"])
        // Voluntary disruptions (node drains) keep one replica answering the API server.
        let pdb = try #require(try Self.documents("deployment.yaml").first { $0["kind"] == "PodDisruptionBudget" })
        #expect(pdb["apiVersion"] == "policy/v1" && pdb["spec"]?["minAvailable"] == 1)
        #expect(selects(pdb["spec"]?["selector"]?["matchLabels"]))
    }

    /// The README's configuration table names every key the config file takes, with its
    /// environment variable, and the README names every `locus.dev/` key the code reads.
    @Test func readmeDocumentsEveryConfigKeyAndLabel() throws {
        let readme = try String(contentsOfFile: "\(Repository.root)/README.md", encoding: .utf8)
        let rows = readme.split(separator: "\n").filter { $0.hasPrefix("| `") }
        for key in ServeConfig.keys {
            let documented = rows.contains { $0.contains("`\(key.name)`") && $0.contains("`\(key.environmentName)`") }
            #expect(documented, "README row for \(key.name)")
        }
        let sources = try FileManager.default.subpathsOfDirectory(atPath: "\(Repository.root)/Sources")
            .filter { $0.hasSuffix(".swift") && !$0.hasPrefix("locus-bench") }
            .map { try String(contentsOfFile: "\(Repository.root)/Sources/\($0)", encoding: .utf8) }
            .joined()
        let keys = Set(sources.matches(of: /"(locus\.dev\/[a-z-]+)"/).map { String($0.output.1) })
        #expect(keys.count >= 10, "\(keys)")
        for key in keys.sorted() {
            #expect(rows.contains { $0.contains("`\(key)") }, "README's label table names \(key)")
        }
    }

    /// The README's configuration table states each key's default as the code has it: the values in
    /// a row's default column, read by the keys' own readers, leave the defaults as they are; a key
    /// unset by default shows no value there.
    @Test func readmeStatesEveryConfigKeysDefault() throws {
        let readme = try String(contentsOfFile: "\(Repository.root)/README.md", encoding: .utf8)
        let defaults = ServeConfig()
        let unset = Set(
            Mirror(reflecting: defaults).children.filter { child in
                let value = Mirror(reflecting: child.value)
                return value.displayStyle == .optional && value.children.isEmpty
            }.compactMap(\.label))
        func quoted(_ cell: String) -> [String] { cell.matches(of: /`([^`]*)`/).map { String($0.output.1) } }
        var stated = Set<String>()
        for row in readme.split(separator: "\n") where row.hasPrefix("| `") {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let keys = quoted(cells[0])
            // The other tables (commands, routes, labels, metrics).
            guard cells.count >= 3, !keys.isEmpty, keys.allSatisfy({ ServeConfig.keysByName[$0] != nil }) else { continue }
            let values = quoted(cells[2])
            for (i, key) in keys.enumerated() {
                stated.insert(key)
                if unset.contains(key) {
                    #expect(!cells[2].hasPrefix("`"), "\(key) is unset by default, the README gives \(cells[2])")
                    continue
                }
                #expect(!values.isEmpty, "no default value for \(key): \(cells[2])")
                let value: Any = values.count == keys.count ? values[i] : values
                var c = defaults
                do {
                    try c.set(key, value, source: "README")
                    #expect(c == defaults, "the README's default of \(key), \(cells[2]), is not the code's")
                } catch {
                    Issue.record("the README's default of \(key): \(error)")
                }
            }
        }
        #expect(stated == Set(ServeConfig.keys.map(\.name)))
    }

    /// The extender is wired the way kube-scheduler must call it: the verbs Locus serves, names-only
    /// nodes, ignorable (fail open), over HTTPS to the Service.
    @Test func schedulerConfigurationCallsTheExtenderLikeTheDesignSays() throws {
        let config = try #require(try Self.documents("scheduler/kube-scheduler-config.yaml").first)
        #expect(config["kind"] == "KubeSchedulerConfiguration" && config["apiVersion"] == "kubescheduler.config.k8s.io/v1")
        let ext = try #require(config["extenders"]?[0])
        #expect(ext["urlPrefix"] == "https://locus.locus-system.svc:443")
        #expect(ext["filterVerb"].flatMap { Route(rawValue: "/" + ($0.stringValue ?? "")) } == .filter)
        #expect(ext["prioritizeVerb"].flatMap { Route(rawValue: "/" + ($0.stringValue ?? "")) } == .prioritize)
        #expect(ext["nodeCacheCapable"] == true && ext["ignorable"] == true && ext["enableHTTPS"] == true)
        #expect((ext["weight"]?.int64Value ?? 0) > 0)
        #expect(ext["httpTimeout"] != nil && ext["tlsConfig"]?["insecure"] == false)
        let profile = config["profiles"]?[0]?["schedulerName"]?.stringValue
        let docs = try Self.documents("scheduler/second-scheduler.yaml")
        let deployment = try #require(docs.first { $0["kind"] == "Deployment" })
        let command = deployment["spec"]?["template"]?["spec"]?["containers"]?[0]?["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(command.contains("--config=/etc/locus-scheduler/kube-scheduler-config.yaml"))
        let kustomization = try #require(try Self.documents("scheduler/kustomization.yaml").first)
        #expect(
            kustomization["configMapGenerator"]?[0]?["name"]
                == deployment["spec"]?["template"]?["spec"]?["volumes"]?[0]?["configMap"]?["name"])
        #expect(profile == "locus-scheduler")
        let r = try Repository.python(["manifests", "\(Self.dir)/scheduler/second-scheduler.yaml"])
        #expect(r.status == 0, "\(r.stdout)")
    }
}

@Suite("manifests/monitoring: scrapes what the Service serves, graphs and alerts on series Locus exports")
struct MonitoringTests {
    static let dir = "\(ManifestTests.dir)/monitoring"

    /// Every series name Locus exports, with every record path taken once.
    static func exportedSeries() -> Set<String> {
        let m = LocusMetrics()
        m.recordRequest(route: "mutate", code: 200, duration: .milliseconds(1))
        m.recordAdmission(
            outcome: "mutated", engines: ["alluxio"], injections: [Injection(dataset: "ml/a", engine: "alluxio", how: .fuseSidecar)])
        m.recordPrioritize(basis: "cached_bytes", bestScore: 10)
        m.recordExtender(verb: "filter", outcome: "ok")
        m.recordFiltered(nodes: 1)
        m.setLocalityAge(source: "vineyard", seconds: 1)
        m.recordEngineReport(
            source: "vineyard", dataset: "ml/f", report: EngineReport(source: .vineyard, problems: ["x"], memory: ["n": (1, 2)]))
        var contact = Contact()
        _ = contact.heard(at: Date())
        m.setInformerState(resource: "pods", status: InformerStatus(synced: true, stats: InformerStats(), contact: contact), now: Date())
        m.setCertificateState(reloads: 0, failures: 0)
        let text = String(decoding: m.render(), as: UTF8.self)
        return Set(
            text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
                line.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init)
            })
    }

    @Test func dashboardAndAlertsParseAndUseOnlyExportedSeries() throws {
        let files = ["\(Self.dir)/locus-dashboard.json", "\(Self.dir)/prometheusrule.yaml"]
        let r = try Repository.python(["promql"] + files)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let exprs = r.stdout.split(separator: "\n").filter { $0.hasPrefix("expr ") }.map { String($0.dropFirst(5)) }
        #expect(exprs.count >= 25, "\(r.stdout)")
        let exported = Self.exportedSeries()
        let regex = /locus_[a-z_]+/
        var used = Set<String>()
        for e in exprs { for m in e.matches(of: regex) { used.insert(String(m.output)) } }
        #expect(used.count >= 14, "\(used)")
        for name in used.sorted() {
            #expect(exported.contains(name), "\(name) is graphed or alerted on but Locus does not export it: \(exported.sorted())")
        }
        // The checker itself catches a broken expression.
        let tmp = try TempDir()
        defer { tmp.cleanup() }
        try tmp.write("bad.json", #"{"panels":[{"title":"x","targets":[{"expr":"sum by (a (rate(locus_x[5m]))"}]}]}"#)
        #expect(try Repository.python(["promql", tmp.file("bad.json")]).status == 1)
    }

    @Test func serviceMonitorScrapesTheServiceOverTLS() throws {
        let docs = try YAMLBridge.parseAll(
            try String(contentsOfFile: "\(Self.dir)/servicemonitor.yaml", encoding: .utf8), source: "servicemonitor.yaml")
        let monitor = try #require(docs.first)
        let service = try #require(try ManifestTests.documents("service.yaml").first)
        let certificate = try #require(try ManifestTests.documents("certificate.yaml").first { $0["kind"] == "Certificate" })
        let endpoint = try #require(monitor["spec"]?["endpoints"]?[0])
        #expect(
            service["spec"]?["ports"]?.arrayValue?.contains { $0["name"] == endpoint["port"] } == true, "scrapes a port the Service names")
        #expect(
            monitor["spec"]?["selector"]?["matchLabels"]?.objectValue?.allSatisfy { service["metadata"]?["labels"]?[$0.key] == $0.value }
                == true)
        #expect(endpoint["scheme"] == "https" && endpoint["path"] == "/metrics")
        #expect(endpoint["tlsConfig"]?["ca"]?["secret"]?["name"] == certificate["spec"]?["secretName"])
        #expect(certificate["spec"]?["dnsNames"]?.arrayValue?.contains(endpoint["tlsConfig"]?["serverName"] ?? .null) == true)
        let kustomization = try #require(
            try YAMLBridge.parseAll(
                try String(contentsOfFile: "\(Self.dir)/kustomization.yaml", encoding: .utf8), source: "kustomization.yaml"
            ).first)
        let listed = (kustomization["resources"]?.arrayValue ?? []) + (kustomization["configMapGenerator"]?[0]?["files"]?.arrayValue ?? [])
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.dir).filter { $0 != "kustomization.yaml" }
        #expect(Set(listed.compactMap(\.stringValue)) == Set(files))
    }
}
