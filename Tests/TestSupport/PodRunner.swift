import Foundation
import JSON
import KubeClient

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a Pod on this machine the way a kubelet does, with podman and runc as the container
/// runtime (each container a real OCI container in its own mount namespace), so that a test can
/// check the bytes an app container reads through what Locus injected.
///
/// What it does as a kubelet: volumes (emptyDir, hostPath with its type, configMap and secret
/// with `items` and `defaultMode`, persistentVolumeClaim from a given directory), mounts with
/// `subPath` and `mountPropagation` (`Bidirectional` → rshared, `HostToContainer` → rslave, else
/// rprivate), `readOnly`, env and envFrom from ConfigMaps, Secrets and the downward API, command
/// and args, `privileged`, capabilities and `runAsUser`; init containers one after the other;
/// native sidecars (`restartPolicy: Always` init containers) left running and gated on their
/// `startupProbe` (exec); containers started in order, each `postStart` exec hook run before the
/// next container starts (a failed hook fails the pod); at the end `preStop` exec hooks, app
/// containers before sidecars, then the containers stopped.
///
/// What it does not: the pod network (every pod uses the host's), restarts, liveness and
/// readiness probes, resources (an extended resource named `fuseDevice` becomes `/dev/fuse`),
/// images from a registry (`images` maps each image a pod names to a local one).
public struct PodRunner: Sendable {
    /// A local image standing in for an image a pod names, with host paths it needs read-only.
    public struct Image: Sendable {
        public var local: String
        public var readOnlyHostPaths: [String] = []

        public init(local: String, readOnlyHostPaths: [String] = []) {
            self.local = local
            self.readOnlyHostPaths = readOnlyHostPaths
        }
    }

    /// The cluster objects a pod reads: ConfigMaps and Secrets (decoded values) of its namespace,
    /// and the directory that stands in for each volume claim.
    public struct Objects: Sendable {
        public var configMaps: [String: [String: String]] = [:]
        public var secrets: [String: [String: String]] = [:]
        public var claims: [String: String] = [:]

        public init(configMaps: [String: [String: String]] = [:], secrets: [String: [String: String]] = [:], claims: [String: String] = [:])
        {
            self.configMaps = configMaps
            self.secrets = secrets
            self.claims = claims
        }
    }

    /// What happened to one pod.
    public struct Run: Sendable {
        /// Exit codes of the containers that exited.
        public var exitCodes: [String: Int32] = [:]
        public var logs: [String: String] = [:]
        /// What the runner did, in order (`started X`, `startupProbe of X passed`, …).
        public var events: [String] = []
        /// Why the pod failed, if it did (an init container, a probe, a hook, a volume).
        public var failure: String?
        /// Mounts left under the pod's volumes after it ended (none on a clean stop).
        public var leftoverMounts: [String] = []
    }

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public var images: [String: Image]
    public var objects = Objects()
    public var fuseDeviceResource = "fluid.io/fuse"
    public var nodeName = "runner-node"

    public init(images: [String: Image]) {
        self.images = images
    }

    /// Runs `pod` until each container in `waitFor` has exited (or `timeout` passed), then stops it.
    public func run(_ pod: JSONValue, waitFor: [String], timeout: Duration = .seconds(120)) async throws -> Run {
        try await Podman.shared.prepare()
        let id = "locus-pod-" + UUID().uuidString.prefix(8).lowercased()
        let dir = NSTemporaryDirectory() + id
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var run = Run()
        var started: [(name: String, container: JSONValue, sidecar: Bool)] = []
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let volumes = try prepareVolumes(pod, dir: dir)
            for c in pod["spec"]?["initContainers"]?.arrayValue ?? [] {
                let name = c["name"]?.stringValue ?? "?"
                if c["restartPolicy"]?.stringValue == "Always" {
                    try await start(c, id: id, volumes: volumes, pod: pod, detached: true)
                    started.append((name, c, true))
                    run.events.append("started sidecar \(name)")
                    if let probe = c["startupProbe"] {
                        if let why = try await gate(on: probe, container: "\(id)-\(name)") {
                            throw Failure(description: "startupProbe of \(name) failed: \(why)")
                        }
                        run.events.append("startupProbe of \(name) passed")
                    }
                    try await postStart(c, id: id, run: &run)
                } else {
                    try await start(c, id: id, volumes: volumes, pod: pod, detached: true)
                    started.append((name, c, false))
                    let code = try await Podman.shared.wait("\(id)-\(name)", timeout: timeout)
                    run.exitCodes[name] = code
                    run.events.append("init container \(name) exited \(code)")
                    guard code == 0 else { throw Failure(description: "init container \(name) exited \(code)") }
                }
            }
            for c in pod["spec"]?["containers"]?.arrayValue ?? [] {
                let name = c["name"]?.stringValue ?? "?"
                try await start(c, id: id, volumes: volumes, pod: pod, detached: true)
                started.append((name, c, false))
                run.events.append("started \(name)")
                try await postStart(c, id: id, run: &run)
            }
            for name in waitFor {
                let code = try await Podman.shared.wait("\(id)-\(name)", timeout: timeout)
                run.exitCodes[name] = code
                run.events.append("\(name) exited \(code)")
            }
        } catch let f as Failure {
            run.failure = f.description
            run.events.append("pod failed: \(f.description)")
        }
        // Stop: app containers first (in reverse), then sidecars (in reverse), each after its preStop.
        let order = Array(started.filter { !$0.sidecar }.reversed()) + Array(started.filter(\.sidecar).reversed())
        for s in order {
            let full = "\(id)-\(s.name)"
            if try await Podman.shared.isRunning(full), let command = s.container["lifecycle"]?["preStop"]?["exec"]?["command"]?.arrayValue
            {
                let r = try await Podman.shared.run(["exec", full] + command.compactMap(\.stringValue))
                run.events.append("preStop of \(s.name) exited \(r.status)")
            }
            run.logs[s.name] = try await Podman.shared.run(["logs", full]).combined
            _ = try await Podman.shared.run(["rm", "-f", "-t", "5", full])
        }
        run.leftoverMounts = Self.mounts(under: dir)
        for m in run.leftoverMounts.reversed() { _ = umount2(m, Int32(MNT_DETACH)) }
        return run
    }

    /// A pod whose containers were started and left running (`startPod`), for a test to talk to.
    public struct StartedPod: Sendable {
        public let id: String
        public let dir: String
        /// Each volume's folder (or file) on the host, as the containers see it.
        public let volumes: [String: String]
        /// The containers started, by their name in the pod.
        public var containers: [String] = []
        public func container(_ name: String) -> String { "\(id)-\(name)" }
    }

    /// Starts the pod's containers (it must have no init containers) and leaves them running.
    public func startPod(_ pod: JSONValue) async throws -> StartedPod {
        try await Podman.shared.prepare()
        guard (pod["spec"]?["initContainers"]?.arrayValue ?? []).isEmpty else {
            throw Failure(description: "startPod runs pods without init containers")
        }
        let id = "locus-pod-" + UUID().uuidString.prefix(8).lowercased()
        let dir = NSTemporaryDirectory() + id
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var started = StartedPod(id: id, dir: dir, volumes: try prepareVolumes(pod, dir: dir))
        for c in pod["spec"]?["containers"]?.arrayValue ?? [] {
            try await start(c, id: id, volumes: started.volumes, pod: pod, detached: true)
            started.containers.append(c["name"]?.stringValue ?? "?")
        }
        return started
    }

    /// Stops a container as the kubelet does when its pod is deleted: SIGTERM, SIGKILL once
    /// `grace` seconds passed. Returns its exit code, how long it took to exit, and its logs.
    public func stop(_ pod: StartedPod, container: String, grace: Int) async throws -> (exitCode: Int32, seconds: Double, logs: String) {
        let name = pod.container(container)
        let start = ContinuousClock.now
        let r = try await Podman.shared.run(["stop", "--time", "\(grace)", name])
        let took = ContinuousClock.now - start
        guard r.status == 0 else { throw Failure(description: "podman stop \(name): \(r.combined)") }
        let code = try await Podman.shared.run(["inspect", "--format", "{{.State.ExitCode}}", name]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
        return (Int32(code) ?? -1, seconds, try await Podman.shared.run(["logs", name]).combined)
    }

    /// Removes the pod's containers and its volumes' folders.
    public func remove(_ pod: StartedPod) async {
        for name in pod.containers { _ = try? await Podman.shared.run(["rm", "-f", "-t", "0", pod.container(name)]) }
        try? FileManager.default.removeItem(atPath: pod.dir)
    }

    /// Runs `container`'s postStart exec hook, as the kubelet does before it starts the next container.
    private func postStart(_ c: JSONValue, id: String, run: inout Run) async throws {
        guard let command = c["lifecycle"]?["postStart"]?["exec"]?["command"]?.arrayValue else { return }
        let name = c["name"]?.stringValue ?? "?"
        let r = try await Podman.shared.run(["exec", "\(id)-\(name)"] + command.compactMap(\.stringValue))
        run.events.append("postStart of \(name) exited \(r.status)")
        guard r.status == 0 else { throw Failure(description: "postStart hook of \(name) failed (exit \(r.status)): \(r.combined)") }
    }

    /// Polls an exec startup probe; nil once it passes, else why it never did.
    private func gate(on probe: JSONValue, container: String) async throws -> String? {
        guard let command = probe["exec"]?["command"]?.arrayValue?.compactMap(\.stringValue) else { return "not an exec probe" }
        let period = Double(probe["periodSeconds"]?.int64Value ?? 10)
        let tries = Int(probe["failureThreshold"]?.int64Value ?? 3)
        var last = ""
        for _ in 0..<max(tries, 1) {
            guard try await Podman.shared.isRunning(container) else {
                return "the container exited: \(try await Podman.shared.run(["logs", container]).combined)"
            }
            let r = try await Podman.shared.run(["exec", container] + command)
            if r.status == 0 { return nil }
            last = r.combined
            try await Task.sleep(for: .seconds(period))
        }
        return "\(tries) tries failed (\(last)): \(try await Podman.shared.run(["logs", container]).combined)"
    }

    // MARK: volumes

    /// Makes every volume of the pod and returns its directory (or file) on the host.
    private func prepareVolumes(_ pod: JSONValue, dir: String) throws -> [String: String] {
        let fm = FileManager.default
        var out: [String: String] = [:]
        for v in pod["spec"]?["volumes"]?.arrayValue ?? [] {
            let name = v["name"]?.stringValue ?? "?"
            let path = "\(dir)/volumes/\(name)"
            if v["emptyDir"] != nil {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
                out[name] = path
            } else if let hostPath = v["hostPath"] {
                let p = hostPath["path"]?.stringValue ?? ""
                var isDir: ObjCBool = false
                let exists = fm.fileExists(atPath: p, isDirectory: &isDir)
                switch hostPath["type"]?.stringValue ?? "" {
                case "DirectoryOrCreate": if !exists { try fm.createDirectory(atPath: p, withIntermediateDirectories: true) }
                case "Directory":
                    guard exists && isDir.boolValue else {
                        throw Failure(description: "hostPath \(p) of volume \(name) is not a directory")
                    }
                case "": break
                default: guard exists else { throw Failure(description: "hostPath \(p) of volume \(name) does not exist") }
                }
                out[name] = p
            } else if let cm = v["configMap"] {
                let source = cm["name"]?.stringValue ?? ""
                guard let data = objects.configMaps[source] else {
                    if cm["optional"]?.boolValue == true {
                        try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
                        out[name] = path
                        continue
                    }
                    throw Failure(description: "configMap \(source) of volume \(name) does not exist")
                }
                try AtomicWriter.write(Self.files(data, items: cm["items"], mode: cm["defaultMode"]?.int64Value ?? 0o644), to: path)
                out[name] = path
            } else if let secret = v["secret"] {
                let source = secret["secretName"]?.stringValue ?? ""
                guard let data = objects.secrets[source] else {
                    throw Failure(description: "secret \(source) of volume \(name) does not exist")
                }
                try AtomicWriter.write(Self.files(data, items: secret["items"], mode: secret["defaultMode"]?.int64Value ?? 0o644), to: path)
                out[name] = path
            } else if let claim = v["persistentVolumeClaim"]?["claimName"]?.stringValue {
                guard let p = objects.claims[claim] else {
                    throw Failure(description: "volume claim \(claim) of volume \(name) has no directory here")
                }
                out[name] = p
            } else {
                throw Failure(
                    description:
                        "volume \(name): this runner makes emptyDir, hostPath, configMap, secret and persistentVolumeClaim volumes only")
            }
        }
        return out
    }

    /// The files of a ConfigMap or Secret volume: each key (or each of `items`) with its mode.
    public static func files(_ data: [String: String], items: JSONValue?, mode: Int64) -> [AtomicWriter.File] {
        guard let items = items?.arrayValue else {
            return data.keys.sorted().map { AtomicWriter.File(path: $0, data: Data((data[$0] ?? "").utf8), mode: mode) }
        }
        return items.compactMap { i in
            guard let k = i["key"]?.stringValue, let p = i["path"]?.stringValue else { return nil }
            return AtomicWriter.File(path: p, data: Data((data[k] ?? "").utf8), mode: i["mode"]?.int64Value ?? mode)
        }
    }

    // MARK: containers

    private func start(_ c: JSONValue, id: String, volumes: [String: String], pod: JSONValue, detached: Bool) async throws {
        let name = c["name"]?.stringValue ?? "?"
        guard let image = c["image"]?.stringValue, let local = images[image] else {
            throw Failure(description: "container \(name): no local image stands in for \(c["image"]?.stringValue ?? "no image")")
        }
        var args = ["run", "--name", "\(id)-\(name)", "--network", "host", "--hostname", nodeName]
        if detached { args.append("-d") }
        let context = c["securityContext"] ?? .null
        if context["privileged"]?.boolValue == true { args.append("--privileged") }
        for cap in context["capabilities"]?["add"]?.arrayValue?.compactMap(\.stringValue) ?? [] { args += ["--cap-add", cap] }
        for cap in context["capabilities"]?["drop"]?.arrayValue?.compactMap(\.stringValue) ?? [] { args += ["--cap-drop", cap] }
        let podContext = pod["spec"]?["securityContext"] ?? .null
        let user = context["runAsUser"]?.int64Value ?? podContext["runAsUser"]?.int64Value
        let group = context["runAsGroup"]?.int64Value ?? podContext["runAsGroup"]?.int64Value
        if let user { args += ["--user", group.map { "\(user):\($0)" } ?? "\(user)"] }
        if (context["runAsNonRoot"]?.boolValue ?? podContext["runAsNonRoot"]?.boolValue) == true {
            // As the kubelet: the user the container would run as must not be root.
            let imageUser =
                try await Podman.shared.run(["image", "inspect", "--format", "{{.Config.User}}", local.local]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":").first.map(String.init) ?? ""
            let effective = user.map(String.init) ?? imageUser
            guard !effective.isEmpty, effective != "0", effective != "root" else {
                throw Failure(description: "container \(name): runAsNonRoot and the image will run as root")
            }
        }
        // The kubelet gives a read-only root nothing writable of its own (podman would add tmpfs on /tmp and /run).
        if context["readOnlyRootFilesystem"]?.boolValue == true { args += ["--read-only", "--read-only-tmpfs=false"] }
        if context["allowPrivilegeEscalation"]?.boolValue == false { args += ["--security-opt", "no-new-privileges"] }
        if c["resources"]?["limits"]?[fuseDeviceResource] != nil { args += ["--device", "/dev/fuse"] }
        if let wd = c["workingDir"]?.stringValue { args += ["--workdir", wd] }
        for p in local.readOnlyHostPaths { args += ["--mount", "type=bind,src=\(p),dst=\(p),ro=true"] }
        for m in c["volumeMounts"]?.arrayValue ?? [] {
            let volume = m["name"]?.stringValue ?? ""
            guard var source = volumes[volume], let target = m["mountPath"]?.stringValue else {
                throw Failure(description: "container \(name) mounts volume \(volume), which the pod does not have")
            }
            if let sub = m["subPath"]?.stringValue, !sub.isEmpty {
                source += "/" + sub
                var isDir: ObjCBool = false
                if !FileManager.default.fileExists(atPath: source, isDirectory: &isDir) {
                    try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
                }
            }
            let propagation =
                switch m["mountPropagation"]?.stringValue {
                case "Bidirectional": "rshared"
                case "HostToContainer": "rslave"
                default: "rprivate"
                }
            var spec = "type=bind,src=\(source),dst=\(target),bind-propagation=\(propagation)"
            if m["readOnly"]?.boolValue == true { spec += ",ro=true" }
            args += ["--mount", spec]
        }
        for (k, v) in try environment(c, pod: pod) { args += ["--env", "\(k)=\(v)"] }
        if let command = c["command"]?.arrayValue?.compactMap(\.stringValue) {
            args += ["--entrypoint", JSONValue.array(command.map { .string($0) }).jsonString]
        }
        args.append(local.local)
        args += c["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let r = try await Podman.shared.run(args)
        guard r.status == 0 else { throw Failure(description: "container \(name) did not start: \(r.combined)") }
    }

    /// The container's environment as the kubelet makes it: envFrom first, then env in order,
    /// `$(VAR)` expanded from what came before.
    private func environment(_ c: JSONValue, pod: JSONValue) throws -> [(String, String)] {
        var out: [(String, String)] = []
        func set(_ k: String, _ v: String) {
            out.removeAll { $0.0 == k }
            out.append((k, v))
        }
        let name = c["name"]?.stringValue ?? "?"
        for e in c["envFrom"]?.arrayValue ?? [] {
            let prefix = e["prefix"]?.stringValue ?? ""
            let (ref, source) = e["configMapRef"].map { ($0, objects.configMaps) } ?? (e["secretRef"] ?? .null, objects.secrets)
            let n = ref["name"]?.stringValue ?? ""
            guard let data = source[n] else {
                if ref["optional"]?.boolValue == true { continue }
                throw Failure(description: "container \(name): envFrom \(n) does not exist")
            }
            for (k, v) in data.sorted(by: { $0.key < $1.key }) { set(prefix + k, v) }
        }
        for e in c["env"]?.arrayValue ?? [] {
            let k = e["name"]?.stringValue ?? ""
            if let v = e["value"]?.stringValue {
                var expanded = v
                for (ek, ev) in out { expanded = expanded.replacingOccurrences(of: "$(\(ek))", with: ev) }
                set(k, expanded)
            } else if let from = e["valueFrom"] {
                if let ref = from["configMapKeyRef"] ?? from["secretKeyRef"] {
                    let source = from["configMapKeyRef"] != nil ? objects.configMaps : objects.secrets
                    guard let v = source[ref["name"]?.stringValue ?? ""]?[ref["key"]?.stringValue ?? ""] else {
                        if ref["optional"]?.boolValue == true { continue }
                        throw Failure(description: "container \(name): env \(k) refers to \(ref.jsonString), which does not exist")
                    }
                    set(k, v)
                } else if let field = from["fieldRef"]?["fieldPath"]?.stringValue {
                    let value: String =
                        switch field {
                        case "metadata.name": pod["metadata"]?["name"]?.stringValue ?? ""
                        case "metadata.namespace": pod["metadata"]?["namespace"]?.stringValue ?? ""
                        case "spec.nodeName": nodeName
                        default: "127.0.0.1"  // status.hostIP, status.podIP: the host network
                        }
                    set(k, value)
                }
            }
        }
        return out
    }

    /// Mount points below `dir`, deepest last.
    public static func mounts(under dir: String) -> [String] {
        let text = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        let real = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
        return text.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = String(fields[4]).replacingOccurrences(of: "\\040", with: " ")
            return point.hasPrefix(dir + "/") || point.hasPrefix(real + "/") ? point : nil
        }.sorted()
    }
}

/// podman with the settings these machines need (runc, cgroupfs, open-file limits below the
/// hard limit, a shared root mount for Bidirectional propagation), and the test images.
public actor Podman {
    public static let shared = Podman()

    private var prepared = false
    private var configFile = ""

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var combined: String { (stdout + stderr).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    public func prepare() throws {
        guard !prepared else { return }
        _ = try executable("podman")
        var nofile = rlimit()
        var nproc = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &nofile)
        getrlimit(6, &nproc)  // RLIMIT_NPROC (a macro Swift does not import)
        let files = min(nofile.rlim_max, 20_000)
        let procs = min(nproc.rlim_max / 2, 4096)  // below the hard limit: equal to it fails here
        configFile = NSTemporaryDirectory() + "locus-podman-containers.conf"
        try Data(
            """
            [containers]
            default_ulimits = ["nofile=\(files):\(files)", "nproc=\(procs):\(procs)"]
            [engine]
            runtime = "runc"
            cgroup_manager = "cgroupfs"
            events_logger = "file"

            """.utf8
        ).write(to: URL(fileURLWithPath: configFile))
        // Bidirectional propagation needs the host side on a shared mount, as kubelet keeps it.
        if !(try runProcess("/usr/bin/findmnt", ["-no", "PROPAGATION", "/"]).stdout.contains("shared")) {
            try runProcess("/usr/bin/mount", ["--make-rshared", "/"])
        }
        prepared = true
    }

    public func run(_ args: [String]) async throws -> Result {
        try prepare()
        var env = ProcessInfo.processInfo.environment
        env["CONTAINERS_CONF"] = configFile
        let e = env
        let r = try await offThePool { try runLeavingDaemons("/usr/bin/podman", args, environment: e) }
        return Result(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }

    public func isRunning(_ container: String) async throws -> Bool {
        try await run(["inspect", "--format", "{{.State.Running}}", container]).stdout.contains("true")
    }

    /// The exit code of `container` once it exits; fails past `timeout`.
    public func wait(_ container: String, timeout: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !(try await isRunning(container)) {
                let code = try await run(["inspect", "--format", "{{.State.ExitCode}}", container]).stdout
                return Int32(code.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw PodRunner.Failure(description: "\(container) did not exit within \(timeout)")
    }

    /// A local image from a root filesystem made of busybox (Debian's busybox-static), the given
    /// files (host path → image path) and symlinks; built once per name.
    /// `command` is the image's default command (none: a container must name its own).
    public func image(_ name: String, files: [String: String] = [:], links: [String: String] = [:], command: [String]? = nil) async throws
        -> String
    {
        let tag = "localhost/locus-test/\(name):1"
        if try await run(["image", "exists", tag]).status == 0 { return tag }
        let root = NSTemporaryDirectory() + "locus-image-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        for d in ["bin", "sbin", "usr/bin", "usr/local/bin", "tmp", "etc", "root", "var/run"] {
            try fm.createDirectory(atPath: "\(root)/\(d)", withIntermediateDirectories: true)
        }
        guard fm.isExecutableFile(atPath: "/bin/busybox") else {
            throw PodRunner.Failure(description: "/bin/busybox is missing (apt-get install busybox-static)")
        }
        try fm.copyItem(atPath: "/bin/busybox", toPath: "\(root)/bin/busybox")
        let applets = try runProcess("/bin/busybox", ["--list"]).stdout.split(separator: "\n")
        for a in applets where !fm.fileExists(atPath: "\(root)/bin/\(a)") {
            try fm.createSymbolicLink(atPath: "\(root)/bin/\(a)", withDestinationPath: "busybox")
        }
        for (host, inImage) in files {
            try fm.createDirectory(atPath: "\(root)\((inImage as NSString).deletingLastPathComponent)", withIntermediateDirectories: true)
            try fm.copyItem(atPath: host, toPath: "\(root)\(inImage)")
        }
        for (link, target) in links {
            try? fm.removeItem(atPath: "\(root)\(link)")
            try fm.createDirectory(atPath: "\(root)\((link as NSString).deletingLastPathComponent)", withIntermediateDirectories: true)
            try fm.createSymbolicLink(atPath: "\(root)\(link)", withDestinationPath: target)
        }
        try Data("root:x:0:0:root:/root:/bin/sh\n".utf8).write(to: URL(fileURLWithPath: "\(root)/etc/passwd"))
        var env = ProcessInfo.processInfo.environment
        env["CONTAINERS_CONF"] = configFile
        var changes = ["--change", "ENV=PATH=/bin:/sbin:/usr/bin:/usr/local/bin"]
        if let command { changes += ["--change", "CMD \(JSONValue.array(command.map { .string($0) }).jsonString)"] }
        let r = try runProcess(
            "/bin/sh",
            ["-c", "root=$0; tag=$1; shift; tar -C \"$root\" -c . | /usr/bin/podman import \"$@\" - \"$tag\"", root, tag] + changes,
            environment: env)
        guard r.status == 0 else { throw PodRunner.Failure(description: "podman import \(tag): \(r.stderr)") }
        return tag
    }
}
