import Foundation
import JSON
import KubeClient
import Locality

/// How a FUSE sidecar is to be made, from the pod's labels.
struct FuseSidecarOptions {
    /// Hold the app containers until the FUSE mount is up (off with `fuse.sidecar.poststart.fluid.io/inject: "false"`).
    var mountCheck = true
    /// Fluid's unprivileged sidecar (`unprivileged.sidecar.fluid.io/inject: "true"`).
    var unprivileged = false
    /// Keep the DaemonSet's cache-directory volumes (`cachedir.sidecar.fluid.io/inject: "true"`).
    var keepCacheDirectories = false

    init(labels: StringMembers) {
        mountCheck = labels[Keys.fluidPostStartInject] != "false"
        unprivileged = labels[Keys.fluidUnprivilegedInject] == "true"
        keepCacheDirectories = labels[Keys.fluidCacheDirInject] == "true"
    }
}

/// Names of DaemonSet volumes Fluid's webhook leaves out of a sidecar unless the pod keeps
/// cache directories: the cache tiers and the node's local time (`pkg/application/inject/fuse`).
let fluidCacheVolumePrefixes = ["datavolume-", "volume-localtime", "cache-dir", "mem", "ssd", "hdd"]
/// Names of DaemonSet volumes that hand the node's FUSE device to the container, which an
/// unprivileged sidecar gets from a device plugin instead.
let fluidFuseDeviceVolumePrefixes = ["alluxio-fuse-device", "jindofs-fuse-device", "thin-fuse-device"]

extension PodDraft {
    /// Adds the FUSE container of `d`'s engine to the pod, as Fluid's webhook does in sidecar
    /// mode: the first container of the runtime's FUSE DaemonSet, whole (command, args, env with
    /// Secret references, envFrom, lifecycle, ports, resources, security context, mounts), with the
    /// volumes it mounts under names the pod does not use yet. The DaemonSet's mount point on the
    /// node (a hostPath) becomes the pod's dataset volume, an emptyDir the sidecar mounts FUSE into
    /// (`Bidirectional`) and the app containers read (`HostToContainer`, at the dataset's place
    /// below that mount point): a hostPath there would meet the node's own FUSE pod of the same
    /// runtime and every other pod of the dataset on that node.
    ///
    /// `template` is `d`'s own (its access), so the sidecar prepared from it is kept with `d`'s
    /// resolution. Returns how the dataset was wired and why, or why no sidecar can be made.
    mutating func injectFuseSidecar(
        _ d: ResolvedDataset, template: FuseTemplate, config: MutationConfig, options: FuseSidecarOptions,
        podNamespace: String, warnings: inout [String]
    ) -> Result<(Wiring, [Explanation]), SidecarProblem> {
        // What the sidecar is before it meets this pod, made once per resolution of the dataset.
        let key = PreparedSidecar.Key(options: options, config: config, podNamespace: podNamespace)
        let prepared: PreparedSidecar
        switch d.derived(key, { Self.prepareSidecar(d, template: template, config: config, options: options, podNamespace: podNamespace) }) {
        case .failure(let problem): return .failure(problem)
        case .success(let p): prepared = p
        }
        var sidecar = prepared.source
        let share = prepared.share
        let datasetVolume = d.volumes[0]
        let volumes = addDaemonSetVolumes(sidecar.volumes, except: share.volume, options: options)
        sidecar.container["volumeMounts"] = .array(
            Self.sidecarMounts(sidecar.container, share: share, renamed: volumes.renamed, datasetVolume: datasetVolume, options: options))
        let (hostPath, appMounts) = wireDatasetVolume(
            datasetVolume, of: d, template: template, share: share, options: options, warnings: &warnings)
        let placed = placeSidecar(&sidecar.container, for: d, prepared: prepared)
        guard explain else { return .success((placed.wiring, [])) }
        return .success(
            (
                placed.wiring,
                Self.sidecarExplanations(
                    d, sidecar: sidecar, placed: placed, share: share, volumes: volumes, datasetVolume: datasetVolume,
                    hostPath: hostPath, appMounts: appMounts, config: config, options: options)
            ))
    }

    /// The sidecar of `d` as every pod gets it, or why no pod can: the container to copy with its
    /// mount point found, made fit for a pod (`adaptForThePod`) and holding the app containers
    /// until the mount is up (`addMountCheck`). What each pod adds (the names it does not use yet,
    /// the mounts of its volumes, the place among its containers) is not in it. Reads only `d`'s
    /// resolution and what `PreparedSidecar.Key` names.
    static func prepareSidecar(
        _ d: ResolvedDataset, template: FuseTemplate, config: MutationConfig, options: FuseSidecarOptions, podNamespace: String
    ) -> Result<PreparedSidecar, SidecarProblem> {
        sidecarSource(d, template: template, config: config, options: options, podNamespace: podNamespace)
            .flatMap { source in sharedMountPoint(source.container, template: template).map { (source, $0) } }
            .map { source, share in
                var source = source
                adaptForThePod(&source.container, options: options, config: config)
                let checkWhy = addMountCheck(&source.container, template: template, config: config, options: options)
                let wiring: Wiring =
                    options.unprivileged ? .fuseUnprivilegedSidecar : (config.nativeSidecars ? .fuseNativeSidecar : .fuseSidecar)
                return PreparedSidecar(source: source, share: share, native: config.nativeSidecars, checkWhy: checkWhy, wiring: wiring)
            }
    }

    /// The container to copy and the volumes it mounts, with where they come from; why not, when
    /// the pod cannot run it (another namespace's ConfigMaps or Secrets, an unprivileged
    /// security context).
    static func sidecarSource(
        _ d: ResolvedDataset, template: FuseTemplate, config: MutationConfig, options: FuseSidecarOptions, podNamespace: String
    ) -> Result<SidecarSource, SidecarProblem> {
        let source: SidecarSource
        switch template.sidecar {
        case .unavailable(let why):
            return .failure(SidecarProblem(why))
        case .daemonSet(let ns, let name, let c, let v):
            source = SidecarSource(container: c, volumes: v, origin: .daemonSet(namespace: ns, name: name))
            if ns != podNamespace, let refs = namespacedReferences(container: c, volumes: v) {
                return .failure(
                    SidecarProblem(
                        "its FUSE container (DaemonSet \(ns)/\(name)) reads \(refs) of namespace \(ns), which a pod in namespace "
                            + "\(podNamespace) cannot reach; use serverful mode (label \(Keys.fluidServerfulInject)=true)"
                    ))
            }
        case .runtimeSpec(var c, let v):
            if c["resources"] == nil { c["resources"] = config.fuseResources }
            source = SidecarSource(container: c, volumes: v, origin: .runtimeSpec(kind: d.kind.rawValue, runtime: d.runtime.metadata.key))
        }
        if !options.unprivileged,
            let field = ["privileged", "allowPrivilegeEscalation"].first(where: { source.container["securityContext"]?[$0] == false })
        {
            return .failure(
                SidecarProblem(
                    "\(source.origin.contextSource).securityContext sets \(field): false, but a FUSE sidecar must be a privileged container (its "
                        + "mount reaches the app containers only through Bidirectional mount propagation, which Kubernetes allows only "
                        + "in privileged containers); use serverful mode (label \(Keys.fluidServerfulInject)=true) for this dataset"
                ))
        }
        return .success(source)
    }

    /// The container's mount of the node's mount point: the deepest mount at or above where FUSE
    /// mounts the dataset, and where the app containers find the dataset inside it.
    static func sharedMountPoint(_ container: JSONObject, template: FuseTemplate) -> Result<SharedMountPoint, SidecarProblem> {
        let mounts = container["volumeMounts"]?.arrayValue ?? []
        // The deepest: every candidate is the mount path or an ancestor of it, so the longest in
        // bytes is the longest in characters too.
        var index: Int?
        var deepest = -1
        for i in mounts.indices {
            guard let mounted = mounts[i]["mountPath"]?.stringValue, path(template.mountPath, isAtOrBelow: mounted),
                mounted.utf8.count > deepest
            else { continue }
            index = i
            deepest = mounted.utf8.count
        }
        guard let index, let mountPath = mounts[index]["mountPath"]?.stringValue else {
            return .failure(
                SidecarProblem(
                    "its FUSE container mounts no volume at or above \(template.mountPath), where it mounts the dataset, so its mount "
                        + "cannot be shared with the app containers"
                ))
        }
        // Below the mount, in bytes: `mountPath` is a byte prefix of the template's mount path.
        let below = template.mountPath.utf8.dropFirst(mountPath.utf8.count)
        let relative = joinedComponents([Substring(below), Substring(template.subPath ?? "")])
        return .success(
            SharedMountPoint(index: index, path: mountPath, volume: mounts[index]["name"]?.stringValue ?? "", relative: relative))
    }

    /// The DaemonSet's other volumes, added to the pod: Fluid's trims first, then each under a name
    /// the pod does not use.
    mutating func addDaemonSetVolumes(_ source: [JSONValue], except mountPoint: String, options: FuseSidecarOptions) -> SidecarVolumes {
        var out = SidecarVolumes()
        let trimmed =
            (options.unprivileged ? fluidFuseDeviceVolumePrefixes : [])
            + (options.keepCacheDirectories ? [] : fluidCacheVolumePrefixes)
        for volume in source {
            guard let name = volume["name"]?.stringValue, name != mountPoint else { continue }
            if trimmed.contains(where: name.hasPrefix) {
                out.dropped.append(name)
                continue
            }
            let fresh = Self.unique(name, taken: &takenVolumeNames)
            out.renamed[name] = fresh
            var v = volume
            v["name"] = .string(fresh)
            out.added.append(v)
        }
        volumes += out.added
        return out
    }

    /// The sidecar's mounts in the pod: the mount point on the dataset volume (`Bidirectional`;
    /// none unprivileged, as Fluid drops it), the others on their renamed volumes.
    static func sidecarMounts(
        _ container: JSONObject, share: SharedMountPoint, renamed: [String: String], datasetVolume: String, options: FuseSidecarOptions
    ) -> [JSONValue] {
        (container["volumeMounts"]?.arrayValue ?? []).enumerated().compactMap { i, m in
            guard let name = m["name"]?.stringValue else { return nil }
            var m = m
            if i == share.index {
                if options.unprivileged { return nil }  // no propagation without privilege: Fluid drops the mount
                m["name"] = .string(datasetVolume)
                m["mountPropagation"] = "Bidirectional"
                return m
            }
            guard let fresh = renamed[name] else { return nil }  // a trimmed volume, or one the DaemonSet lacks
            m["name"] = .string(fresh)
            return m
        }
    }

    /// Ports without host ports (the DaemonSet runs on the host network; the pod does not) and
    /// without metrics ports, as Fluid's webhook leaves them out; the security context; the FUSE
    /// device from a device plugin for an unprivileged sidecar.
    static func adaptForThePod(_ container: inout JSONObject, options: FuseSidecarOptions, config: MutationConfig) {
        if let ports = container["ports"]?.arrayValue {
            let kept = ports.filter { !($0["name"]?.stringValue ?? "").hasSuffix("-metrics") }.map { p -> JSONValue in
                var p = p
                p["hostPort"] = nil
                p["hostIP"] = nil
                return p
            }
            container["ports"] = kept.isEmpty ? nil : .array(kept)
        }
        container["securityContext"] =
            options.unprivileged
            ? unprivilegedSecurityContext(container["securityContext"])
            : privilegedSecurityContext(container["securityContext"])
        if options.unprivileged, !config.fuseDeviceResource.isEmpty {
            var resources = container["resources"]?.objectValue ?? [:]
            for key in ["limits", "requests"] {
                var r = resources[key]?.objectValue ?? [:]
                r[config.fuseDeviceResource] = "1"
                resources[key] = .object(r)
            }
            container["resources"] = .object(resources)
        }
    }

    /// The dataset volume: a pod-shared emptyDir (privileged), or Fluid's hostPath of the mount
    /// point for an unprivileged sidecar, whose platform makes the mount appear there; the app
    /// mounts of it read with `HostToContainer`, at the dataset's place. Returns that hostPath and
    /// how many app mounts there are.
    mutating func wireDatasetVolume(
        _ datasetVolume: String, of d: ResolvedDataset, template: FuseTemplate, share: SharedMountPoint, options: FuseSidecarOptions,
        warnings: inout [String]
    ) -> (hostPath: String, appMounts: Int) {
        let hostPath = ([template.mountPath] + (template.subPath.map { [$0] } ?? [])).joined(separator: "/")
        if options.unprivileged {
            replaceVolume(named: datasetVolume, with: ("hostPath", ["path": .string(hostPath)]))
        } else {
            replaceVolume(named: datasetVolume, with: ("emptyDir", [:]))
        }
        if d.volumes.count > 1 {
            warnings.append(
                "dataset \(d.ref) is mounted by \(d.volumes.count) volumes; the FUSE sidecar serves \(datasetVolume), the others stay "
                    + "PVC volumes"
            )
        }
        // App mounts first, before the sidecar (whose mount is Bidirectional) joins the pod.
        let appRelative = options.unprivileged ? "" : share.relative
        let n = rewriteMounts(of: datasetVolume, includeInit: true) { m in
            m["mountPropagation"] = "HostToContainer"
            guard !appRelative.isEmpty else { return }
            if let expr = m["subPathExpr"]?.stringValue {
                m["subPathExpr"] = .string(appRelative + "/" + expr)
            } else {
                let sub = m["subPath"]?.stringValue ?? ""
                m["subPath"] = .string(sub.isEmpty ? appRelative : appRelative + "/" + sub)
            }
        }
        return (hostPath, n)
    }

    /// How the sidecar holds the app containers until its mount is up: a native sidecar
    /// (`restartPolicy: Always`) gets a startup probe on the mount, a plain first container a
    /// post-start check; neither when the pod asks for no check or the container has its own.
    /// Returns the explanation's words for it.
    static func addMountCheck(
        _ container: inout JSONObject, template: FuseTemplate, config: MutationConfig, options: FuseSidecarOptions
    ) -> String {
        let check = "grep -q \(shellQuote(" \(template.mountPath) fuse")) /proc/mounts"
        if config.nativeSidecars {
            container["restartPolicy"] = "Always"
            guard options.mountCheck, container["startupProbe"] == nil else { return "" }
            container["startupProbe"] = [
                "exec": ["command": ["sh", "-c", .string(check)]],
                "periodSeconds": 1, "failureThreshold": .integer(Int64(config.fuseMountTimeoutSeconds)),
            ]
            return "; a startup probe holds the app containers until the FUSE mount is up"
        }
        guard options.mountCheck, container["lifecycle"]?["postStart"] == nil else { return "" }
        let loop = "i=0; until \(check); do i=$((i+1)); [ $i -ge \(config.fuseMountTimeoutSeconds) ] && exit 1; sleep 1; done"
        var lifecycle = container["lifecycle"]?.objectValue ?? [:]
        lifecycle["postStart"] = ["exec": ["command": ["sh", "-c", .string(loop)]]]
        container["lifecycle"] = .object(lifecycle)
        return "; a post-start check holds the other containers until the FUSE mount is up"
    }

    /// Names the prepared sidecar and puts it first: a native sidecar (init container with
    /// `restartPolicy: Always`) or the first container.
    mutating func placeSidecar(_ container: inout JSONObject, for d: ResolvedDataset, prepared: PreparedSidecar) -> PlacedSidecar {
        let name = Self.unique("locus-fuse-\(d.ref.name)", taken: &takenContainerNames)
        container["name"] = .string(name)
        if prepared.native {
            initContainers.insert(.object(container), at: 0)
        } else {
            containers.insert(.object(container), at: 0)
        }
        return PlacedSidecar(name: name, image: container["image"]?.stringValue ?? "no image", prepared: prepared)
    }

    /// Why the pod looks as it does now, for `locus mutate`.
    static func sidecarExplanations(
        _ d: ResolvedDataset, sidecar: SidecarSource, placed: PlacedSidecar, share: SharedMountPoint, volumes: SidecarVolumes,
        datasetVolume: String, hostPath: String, appMounts n: Int, config: MutationConfig, options: FuseSidecarOptions
    ) -> [Explanation] {
        let placement =
            placed.native
            ? "a native sidecar (init container with restartPolicy Always, so Jobs complete)"
            : "the first container (cluster without native sidecars)"
        var out = [
            Explanation(
                dataset: d.refDescription, rule: placed.wiring.rawValue,
                text:
                    "added \(d.kind.rawValue) FUSE container \(placed.name) (\(placed.image)), \(sidecar.origin.explanation), as "
                    + "\(placement)\(placed.checkWhy)"
            )
        ]
        if options.unprivileged {
            out.append(
                Explanation(
                    dataset: d.refDescription, rule: "fuse-unprivileged",
                    text:
                        "unprivileged (pod label \(Keys.fluidUnprivilegedInject)=true): not privileged, no "
                        + "SYS_ADMIN\(config.fuseDeviceResource.isEmpty ? "" : ", the FUSE device from resource \(config.fuseDeviceResource)"), without the mount of the node's mount point; volume \(datasetVolume) became hostPath \(hostPath) with HostToContainer on its \(n) mount(s), where the platform makes the sidecar's mount appear (Fluid's unprivileged mode)"
                ))
        } else {
            out.append(
                Explanation(
                    dataset: d.refDescription, rule: "fuse-volume",
                    text:
                        "replaced PVC volume \(datasetVolume) with an emptyDir the sidecar mounts at \(share.path) (Bidirectional, "
                        + "so a privileged container) in place of the node's mount point; its \(n) app mount(s) get mountPropagation "
                        + "HostToContainer\(share.relative.isEmpty ? "" : " and subPath \(share.relative), where FUSE mounts the dataset")"
                ))
        }
        if !volumes.added.isEmpty || !volumes.dropped.isEmpty {
            let moved = volumes.renamed.sorted { $0.key < $1.key }.map { $0.key == $0.value ? $0.key : "\($0.key) as \($0.value)" }
            out.append(
                Explanation(
                    dataset: d.refDescription, rule: "fuse-volumes",
                    text:
                        "added the volumes the FUSE container mounts: "
                        + "\(moved.isEmpty ? "none" : moved.joined(separator: ", "))\(volumes.dropped.isEmpty ? "" : "; left out \(volumes.dropped.joined(separator: ", ")) as Fluid does (label \(Keys.fluidCacheDirInject)=true keeps cache directories)")"
                ))
        }
        return out
    }

    /// Whether `path` is `ancestor` or lies below it (whole components).
    static func path(_ path: String, isAtOrBelow ancestor: String) -> Bool {
        var path = path
        var ancestor = ancestor
        return path.withUTF8 { p in
            ancestor.withUTF8 { a in
                var n = a.count
                if n > 0, a[n - 1] == UInt8(ascii: "/") { n -= 1 }
                guard n > 0 else { return true }
                guard p.count >= n, memcmp(p.baseAddress!, a.baseAddress!, n) == 0 else { return false }
                return p.count == n || p[n] == UInt8(ascii: "/")
            }
        }
    }

    /// The path components of `parts`, in order, joined by single slashes (no empty component).
    static func joinedComponents(_ parts: [Substring]) -> String {
        var out: [UInt8] = []
        for part in parts {
            var slash = !out.isEmpty
            for b in part.utf8 {
                if b == UInt8(ascii: "/") {
                    slash = !out.isEmpty
                    continue
                }
                if slash {
                    out.append(UInt8(ascii: "/"))
                    slash = false
                }
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The ConfigMaps and Secrets a container and its volumes read from their namespace, in words; nil when none.
    static func namespacedReferences(container: JSONObject, volumes: [JSONValue]) -> String? {
        var configMaps = Set<String>()
        var secrets = Set<String>()
        for e in container["env"]?.arrayValue ?? [] {
            if let n = e["valueFrom"]?["configMapKeyRef"]?["name"]?.stringValue { configMaps.insert(n) }
            if let n = e["valueFrom"]?["secretKeyRef"]?["name"]?.stringValue { secrets.insert(n) }
        }
        for e in container["envFrom"]?.arrayValue ?? [] {
            if let n = e["configMapRef"]?["name"]?.stringValue { configMaps.insert(n) }
            if let n = e["secretRef"]?["name"]?.stringValue { secrets.insert(n) }
        }
        for v in volumes {
            if let n = v["configMap"]?["name"]?.stringValue { configMaps.insert(n) }
            if let n = v["secret"]?["secretName"]?.stringValue { secrets.insert(n) }
            for source in v["projected"]?["sources"]?.arrayValue ?? [] {
                if let n = source["configMap"]?["name"]?.stringValue { configMaps.insert(n) }
                if let n = source["secret"]?["name"]?.stringValue { secrets.insert(n) }
            }
        }
        var parts: [String] = []
        if !configMaps.isEmpty { parts.append("ConfigMap \(configMaps.sorted().joined(separator: ", "))") }
        if !secrets.isEmpty { parts.append("Secret \(secrets.sorted().joined(separator: ", "))") }
        return parts.isEmpty ? nil : parts.joined(separator: " and ")
    }

    /// The container's own security context with `privileged: true` and the one capability FUSE
    /// mounting needs, `SYS_ADMIN`. Privileged is not a choice: the sidecar's mount reaches the
    /// app containers only through `Bidirectional` propagation, which the API server allows only
    /// in privileged containers (and a privileged container has `/dev/fuse`).
    static func privilegedSecurityContext(_ given: JSONValue?) -> JSONValue {
        var context = given?.objectValue ?? [:]
        context["privileged"] = true
        var capabilities = context["capabilities"]?.objectValue ?? [:]
        var add = (capabilities["add"]?.arrayValue ?? []).filter { $0.stringValue != nil }  // only capability names
        if !add.contains("SYS_ADMIN") { add.append("SYS_ADMIN") }
        capabilities["add"] = .array(add)
        capabilities["drop"] = nil  // dropping capabilities of a privileged container is refused or void
        context["capabilities"] = .object(capabilities)
        return .object(context)
    }

    /// Fluid's unprivileged sidecar: not privileged, and without `SYS_ADMIN`.
    static func unprivilegedSecurityContext(_ given: JSONValue?) -> JSONValue {
        var context = given?.objectValue ?? [:]
        context["privileged"] = false
        if var capabilities = context["capabilities"]?.objectValue {
            let add = (capabilities["add"]?.arrayValue ?? []).filter { $0.stringValue != nil && $0 != "SYS_ADMIN" }
            capabilities["add"] = add.isEmpty ? nil : .array(add)
            context["capabilities"] = capabilities.isEmpty ? nil : .object(capabilities)
        }
        return .object(context)
    }
}

/// A FUSE sidecar as every pod of a dataset gets it (`PodDraft.prepareSidecar`).
struct PreparedSidecar: Sendable {
    /// The container (fit for a pod, with its mount check; not named, its mounts not yet the
    /// pod's) and the volumes it mounts.
    var source: SidecarSource
    var share: SharedMountPoint
    var native: Bool
    /// How the app containers wait for the mount, for the explanation.
    var checkWhy: String
    var wiring: Wiring

    /// Everything a preparation reads besides the dataset's resolution.
    struct Key: Hashable, Sendable {
        var mountCheck: Bool
        var unprivileged: Bool
        var nativeSidecars: Bool
        var fuseMountTimeoutSeconds: Int
        var fuseDeviceResource: String
        var fuseResources: JSONValue
        var podNamespace: String

        init(options: FuseSidecarOptions, config: MutationConfig, podNamespace: String) {
            mountCheck = options.mountCheck
            unprivileged = options.unprivileged
            nativeSidecars = config.nativeSidecars
            fuseMountTimeoutSeconds = config.fuseMountTimeoutSeconds
            fuseDeviceResource = config.fuseDeviceResource
            fuseResources = config.fuseResources
            self.podNamespace = podNamespace
        }
    }
}

/// The container a FUSE sidecar is copied from, the volumes it mounts, and where they come from.
struct SidecarSource: Sendable {
    var container: JSONObject
    var volumes: [JSONValue]
    /// Where the container comes from.
    var origin: SidecarOrigin
}

/// Where a sidecar's container comes from, put in words only for an explanation or a problem.
enum SidecarOrigin: Sendable {
    case daemonSet(namespace: String, name: String)
    case runtimeSpec(kind: String, runtime: String)

    /// For the explanation.
    var explanation: String {
        switch self {
        case .daemonSet(let ns, let name): "copied from the first container of FUSE DaemonSet \(ns)/\(name), as Fluid's webhook does"
        case .runtimeSpec(let kind, let runtime):
            "built from \(kind) \(runtime)'s spec.fuse, because the cluster state carries no DaemonSets: not the container Fluid's "
                + "FUSE DaemonSet runs (no mount script, no credentials unless spec.fuse names them)"
        }
    }

    /// Where its security context comes from, for a problem with it.
    var contextSource: String {
        switch self {
        case .daemonSet(let ns, let name): "its FUSE DaemonSet \(ns)/\(name)'s container"
        case .runtimeSpec: "its runtime's spec.fuse"
        }
    }
}

/// The sidecar's mount of the node's mount point, which the pod shares with its app containers.
struct SharedMountPoint: Sendable {
    /// Its place among the container's mounts.
    var index: Int
    var path: String
    var volume: String
    /// Where the app containers find the dataset inside it.
    var relative: String
}

/// The DaemonSet's volumes as the pod got them.
struct SidecarVolumes {
    var renamed: [String: String] = [:]
    var added: [JSONValue] = []
    /// Left out as Fluid's webhook leaves them out.
    var dropped: [String] = []
}

/// The sidecar as placed in the pod: the prepared one, named.
struct PlacedSidecar {
    var name: String
    var image: String
    var prepared: PreparedSidecar

    var native: Bool { prepared.native }
    var checkWhy: String { prepared.checkWhy }
    var wiring: Wiring { prepared.wiring }
}

/// Why a FUSE sidecar cannot be made for a dataset.
struct SidecarProblem: Error, Sendable {
    var text: String
    init(_ text: String) { self.text = text }
}
