import Foundation
import Locality

/// One change Locus made to a pod (or chose not to make), in plain words.
public struct Explanation: Sendable, Hashable {
    /// `namespace/name` of the dataset, nil for pod-wide changes.
    public var dataset: String?
    /// A short rule name: `fuse-sidecar`, `fuse-serverful`, `shared-memory`, `env-configmap`, `affinity`, …
    public var rule: String
    public var text: String

    public init(dataset: String?, rule: String, text: String) {
        self.dataset = dataset
        self.rule = rule
        self.text = text
    }
}

/// The mutated pod and why it looks that way.
public struct Mutation: Sendable {
    public var pod: JSONValue
    public var explanations: [Explanation]
    /// Things the pod's owner should know (shown as AdmissionReview warnings).
    public var warnings: [String]
    /// The datasets this mutation wired (not those already in the pod's record).
    public var injections: [Injection] = []
    /// Datasets that could not be wired as asked, and why (the caller denies the pod, or admits
    /// it without them, as the policy says); such a dataset is left out of the pod.
    public var problems: [String] = []
}

/// One dataset wired into a pod: which, by which engine, and how (the value recorded in `locus.dev/injected`).
public struct Injection: Sendable, Hashable {
    public var dataset: String
    public var engine: String
    /// `fuse-native-sidecar`, `fuse-sidecar`, `fuse-serverful`, `shared-memory` or `named` (FUSE dataset without a volume).
    public var how: String

    public init(dataset: String, engine: String, how: String) {
        self.dataset = dataset
        self.engine = engine
        self.how = how
    }

    /// How, in words, for the owner's warning.
    var phrase: String {
        switch how {
        case "fuse-native-sidecar": return "a privileged FUSE native sidecar"
        case "fuse-sidecar": return "a privileged FUSE sidecar container"
        case "fuse-serverful": return "the node's FUSE (mount propagation only)"
        case "shared-memory": return "its shared-memory socket and env"
        default: return "scheduling hints only"
        }
    }
}

/// How a pod opted in.
public struct OptIn: Sendable, Equatable {
    public var fuseMode: MutationConfig.FuseMode
    /// Which label opted the pod in, for explanations.
    public var via: String

    /// nil when the pod did not opt in, or opted out, or Fluid's webhook already injected it.
    public static func evaluate(labels: [String: String], annotations: [String: String], namespaceLabels: [String: String], config: MutationConfig) -> OptIn? {
        if labels[Keys.fluidEnableInjection] == "false" || labels[Keys.fluidSidecarDone] == "true" { return nil }
        if labels[Keys.fluidServerlessInject] == "true" {
            return OptIn(fuseMode: .sidecar, via: "pod label \(Keys.fluidServerlessInject)=true")
        }
        if labels[Keys.fluidServerfulInject] == "true" {
            return OptIn(fuseMode: .serverful, via: "pod label \(Keys.fluidServerfulInject)=true")
        }
        let via: String
        if labels[Keys.inject] == "true" {
            via = "pod label \(Keys.inject)=true"
        } else if namespaceLabels[Keys.inject] == "true", labels[Keys.inject] != "false" {
            via = "namespace label \(Keys.inject)=true"
        } else {
            return nil
        }
        let mode = annotations[Keys.fuseMode].flatMap { MutationConfig.FuseMode(rawValue: $0) } ?? config.defaultFuseMode
        return OptIn(fuseMode: mode, via: via)
    }
}

/// The pod reading and rewriting: pure functions over pod JSON.
public enum PodMutator {
    static func recordText(_ record: [DatasetRef: String]) -> String {
        record.keys.sorted().map { "\($0)=\(record[$0]!)" }.joined(separator: ",")
    }

    /// Rewrites `pod` so it reaches each of `datasets` through its engine. Datasets already in
    /// Locus's record are left as they are, so running this on its own output changes nothing.
    /// `labels` are the pod's string labels (read once by the caller, which decided the opt-in on them).
    public static func mutate(
        pod: JSONValue, labels: [String: String], namespace podNamespace: String, datasets: [ResolvedDataset], optIn: OptIn,
        config: MutationConfig, explain: Bool = true
    ) -> Mutation {
        var draft = PodDraft(pod)
        draft.explain = explain
        var explanations: [Explanation] = []
        var warnings: [String] = []
        var injections: [Injection] = []
        var problems: [String] = []
        var record = PodReferences.injectedRecord(pod)

        for d in datasets where record[d.ref] == nil {
            let how: String
            switch d.access {
            case .fuse(let template):
                if d.volumes.isEmpty {
                    how = "named"
                    if draft.explain {
                        explanations.append(Explanation(
                            dataset: d.ref.description, rule: "fuse-no-volume",
                            text: "\(d.ref) is a FUSE dataset (\(d.engine)) named by annotation, not mounted as a volume: nothing to mount, scheduling hints only"))
                    }
                } else if optIn.fuseMode == .sidecar {
                    if let why = template.sidecarPrivilegeConflict {
                        problems.append("dataset \(d.ref): \(why)")
                        continue
                    }
                    how = config.nativeSidecars ? "fuse-native-sidecar" : "fuse-sidecar"
                    explanations += draft.injectFuseSidecar(
                        d, template: template, config: config, mountCheck: labels[Keys.fluidPostStartInject] != "false", warnings: &warnings)
                } else {
                    how = "fuse-serverful"
                    for volume in d.volumes {
                        let n = draft.setPropagation(volume: volume, to: "HostToContainer", includeInit: true)
                        if draft.explain {
                            explanations.append(Explanation(
                                dataset: d.ref.description, rule: "fuse-serverful",
                                text: "kept PVC volume \(volume) for \(d.ref) (\(d.engine), served by the node's FUSE through Fluid's CSI plugin) and set mountPropagation HostToContainer on its \(n) mount(s), so a remount on the node reaches the pod (\(optIn.via))"))
                        }
                    }
                }
            case .sharedMemory(let endpoint):
                how = "shared-memory"
                explanations += draft.injectSharedMemory(d, endpoint: endpoint, config: config, warnings: &warnings)
            }
            if let cm = d.envConfigMap {
                if d.ref.namespace == podNamespace {
                    explanations += draft.addEnvFrom(configMap: cm, dataset: d.ref, includeInit: config.envIntoInitContainers, optional: false)
                } else {
                    warnings.append("dataset \(d.ref) names env ConfigMap \(cm), but a pod can only read ConfigMaps of its own namespace: not injected")
                }
            }
            record[d.ref] = how
            injections.append(Injection(dataset: d.ref.description, engine: d.engine, how: how))
        }

        if config.schedulingHints {
            explanations += draft.addSchedulingHints(datasets: datasets, podLabels: labels, config: config)
        }
        if !record.isEmpty {
            draft.setAnnotation(Keys.injected, recordText(record))
        }
        return Mutation(pod: draft.finish(), explanations: explanations, warnings: warnings, injections: injections, problems: problems)
    }
}

/// A pod being rewritten: the parts Locus touches, taken out of the JSON once and put back at the end.
struct PodDraft {
    var pod: JSONValue
    var spec: JSONObject
    var containers: [JSONValue]
    var initContainers: [JSONValue]
    var volumes: [JSONValue]
    var takenContainerNames: Set<String>
    var takenVolumeNames: Set<String>
    /// Whether to write the explanations (`locus mutate` prints them; the webhook does not need them).
    var explain = true

    init(_ pod: JSONValue) {
        self.pod = pod
        spec = pod["spec"]?.objectValue ?? [:]
        containers = spec["containers"]?.arrayValue ?? []
        initContainers = spec["initContainers"]?.arrayValue ?? []
        volumes = spec["volumes"]?.arrayValue ?? []
        let ephemeral = spec["ephemeralContainers"]?.arrayValue ?? []
        takenContainerNames = Set((containers + initContainers + ephemeral).compactMap { $0["name"]?.stringValue })
        takenVolumeNames = Set(volumes.compactMap { $0["name"]?.stringValue })
    }

    func finish() -> JSONValue {
        var pod = pod
        var spec = spec
        spec["containers"] = .array(containers)
        if !initContainers.isEmpty { spec["initContainers"] = .array(initContainers) }
        if !volumes.isEmpty { spec["volumes"] = .array(volumes) }
        pod["spec"] = .object(spec)
        return pod
    }

    /// A DNS-label name starting with `base` that nothing in the pod uses yet.
    static func unique(_ base: String, taken: inout Set<String>) -> String {
        func clip(_ s: String, _ n: Int) -> String {
            var t = String(s.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(n))
            while t.hasSuffix("-") { t.removeLast() }
            return t
        }
        var name = clip(base, 63)
        var i = 2
        while taken.contains(name) {
            let suffix = "-\(i)"
            name = clip(base, 63 - suffix.count) + suffix
            i += 1
        }
        taken.insert(name)
        return name
    }

    mutating func setAnnotation(_ key: String, _ value: String) {
        var meta = pod["metadata"]?.objectValue ?? [:]
        var annotations = meta["annotations"]?.objectValue ?? [:]
        annotations[key] = .string(value)
        meta["annotations"] = .object(annotations)
        pod["metadata"] = .object(meta)
    }

    /// Sets `mountPropagation` on every app container mount of `volume`; returns how many.
    mutating func setPropagation(volume: String, to mode: String, includeInit: Bool) -> Int {
        var count = 0
        func apply(_ list: inout [JSONValue]) {
            for i in list.indices {
                guard var mounts = list[i]["volumeMounts"]?.arrayValue else { continue }
                for j in mounts.indices where mounts[j]["name"]?.stringValue == volume {
                    mounts[j]["mountPropagation"] = .string(mode)
                    count += 1
                }
                list[i]["volumeMounts"] = .array(mounts)
            }
        }
        apply(&containers)
        if includeInit { apply(&initContainers) }
        return count
    }

    static func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    mutating func injectFuseSidecar(
        _ d: ResolvedDataset, template: FuseTemplate, config: MutationConfig, mountCheck: Bool, warnings: inout [String]
    ) -> [Explanation] {
        var out: [Explanation] = []
        let volume = d.volumes[0]
        if d.volumes.count > 1 {
            warnings.append("dataset \(d.ref) is mounted by \(d.volumes.count) volumes; the FUSE sidecar serves \(volume), the others stay PVC volumes")
        }
        // The dataset volume becomes an emptyDir the sidecar mounts FUSE onto; the mount reaches
        // the app containers through mount propagation.
        if let i = volumes.firstIndex(where: { $0["name"]?.stringValue == volume }) {
            volumes[i] = ["name": .string(volume), "emptyDir": [:]]
        }
        // App mounts first, before the sidecar (whose mount is Bidirectional) joins the pod.
        let n = setPropagation(volume: volume, to: "HostToContainer", includeInit: true)
        let name = Self.unique("locus-fuse-\(d.ref.name)", taken: &takenContainerNames)
        var c: JSONObject = [
            "name": .string(name),
            "image": .string(template.image),
            "resources": template.resources ?? config.fuseResources,
            "securityContext": template.sidecarSecurityContext,
            "volumeMounts": [["name": .string(volume), "mountPath": .string(template.mountPath), "mountPropagation": "Bidirectional"]],
        ]
        if let p = template.imagePullPolicy { c["imagePullPolicy"] = .string(p) }
        if let cmd = template.command { c["command"] = .array(cmd.map { .string($0) }) }
        if let args = template.args { c["args"] = .array(args.map { .string($0) }) }
        if let env = template.env { c["env"] = env }
        let check = "grep -q \(Self.shellQuote(" \(template.mountPath) fuse")) /proc/mounts"
        let checkWhy: String
        if config.nativeSidecars {
            c["restartPolicy"] = "Always"
            if mountCheck {
                c["startupProbe"] = [
                    "exec": ["command": ["sh", "-c", .string(check)]],
                    "periodSeconds": 1, "failureThreshold": .integer(Int64(config.fuseMountTimeoutSeconds)),
                ]
            }
            initContainers.insert(.object(c), at: 0)
            checkWhy = mountCheck ? "; a startup probe holds the app containers until the FUSE mount is up" : ""
        } else {
            if mountCheck {
                let loop = "i=0; until \(check); do i=$((i+1)); [ $i -ge \(config.fuseMountTimeoutSeconds) ] && exit 1; sleep 1; done"
                c["lifecycle"] = ["postStart": ["exec": ["command": ["sh", "-c", .string(loop)]]]]
            }
            containers.insert(.object(c), at: 0)
            checkWhy = mountCheck ? "; a post-start check holds the other containers until the FUSE mount is up" : ""
        }
        if explain {
            out.append(Explanation(
                dataset: d.ref.description, rule: config.nativeSidecars ? "fuse-native-sidecar" : "fuse-sidecar",
                text: "added \(d.kind.rawValue) FUSE container \(name) (\(template.image)) as \(config.nativeSidecars ? "a native sidecar (init container with restartPolicy Always, so Jobs complete)" : "the first container (cluster without native sidecars)"); it mounts \(d.ref) at \(template.mountPath) with Bidirectional propagation, which needs a privileged container\(checkWhy)"))
            out.append(Explanation(
                dataset: d.ref.description, rule: "fuse-volume",
                text: "replaced PVC volume \(volume) with an emptyDir shared with the sidecar; its \(n) app mount(s) get mountPropagation HostToContainer"))
        }
        return out
    }

    mutating func injectSharedMemory(
        _ d: ResolvedDataset, endpoint: SharedMemoryEndpoint, config: MutationConfig, warnings: inout [String]
    ) -> [Explanation] {
        let volume = Self.unique("locus-\(d.engine)-\(d.ref.name)", taken: &takenVolumeNames)
        volumes.append(["name": .string(volume), "hostPath": ["path": .string(endpoint.socketDirectory), "type": "Directory"]])
        let mountPath = config.sharedMemoryMountPath
        let socketPath = mountPath + "/" + endpoint.socketFile
        var mounted: [String] = []
        for i in containers.indices {
            let cname = containers[i]["name"]?.stringValue ?? "#\(i)"
            var mounts = containers[i]["volumeMounts"]?.arrayValue ?? []
            if mounts.contains(where: { $0["mountPath"]?.stringValue == mountPath }) {
                warnings.append("container \(cname) already mounts something at \(mountPath): the \(d.ref) socket was not mounted there")
                continue
            }
            mounts.append(["name": .string(volume), "mountPath": .string(mountPath)])
            containers[i]["volumeMounts"] = .array(mounts)
            var env = containers[i]["env"]?.arrayValue ?? []
            if let existing = env.first(where: { $0["name"]?.stringValue == endpoint.socketEnvironmentVariable }) {
                if existing["value"]?.stringValue != socketPath {
                    warnings.append("container \(cname) sets \(endpoint.socketEnvironmentVariable) itself; left as it is")
                }
            } else {
                env.append(["name": .string(endpoint.socketEnvironmentVariable), "value": .string(socketPath)])
                containers[i]["env"] = .array(env)
            }
            mounted.append(cname)
        }
        var out: [Explanation] = []
        if explain {
            out.append(Explanation(
                dataset: d.ref.description, rule: "shared-memory",
                text: "mounted \(d.kind.rawValue)'s socket directory \(endpoint.socketDirectory) (node) at \(mountPath) in \(mounted.isEmpty ? "no container" : mounted.joined(separator: ", ")) and set \(endpoint.socketEnvironmentVariable)=\(socketPath), so clients reach the shared-memory copy with no code change"))
        }
        out += addEnvFrom(configMap: endpoint.configMap, dataset: d.ref, includeInit: false, optional: true)
        return out
    }

    /// `envFrom` a ConfigMap into every app container (and init containers if asked) that lacks it.
    mutating func addEnvFrom(configMap: String, dataset: DatasetRef, includeInit: Bool, optional: Bool) -> [Explanation] {
        var names: [String] = []
        func apply(_ list: inout [JSONValue], skipSidecars: Bool) {
            for i in list.indices {
                if skipSidecars, list[i]["restartPolicy"]?.stringValue == "Always" { continue }
                let cname = list[i]["name"]?.stringValue ?? "#\(i)"
                if cname.hasPrefix("locus-fuse-") { continue }
                var envFrom = list[i]["envFrom"]?.arrayValue ?? []
                if envFrom.contains(where: { $0["configMapRef"]?["name"]?.stringValue == configMap }) { continue }
                var ref: JSONObject = ["name": .string(configMap)]
                if optional { ref["optional"] = true }
                envFrom.append(["configMapRef": .object(ref)])
                list[i]["envFrom"] = .array(envFrom)
                names.append(cname)
            }
        }
        apply(&containers, skipSidecars: false)
        if includeInit { apply(&initContainers, skipSidecars: true) }
        guard explain, !names.isEmpty else { return [] }
        return [Explanation(
            dataset: dataset.description, rule: "env-configmap",
            text: "envFrom ConfigMap \(configMap) into \(names.joined(separator: ", "))\(optional ? " (optional: the pod starts even before the engine writes it)" : "")")]
    }

    mutating func addSchedulingHints(datasets: [ResolvedDataset], podLabels: [String: String], config: MutationConfig) -> [Explanation] {
        var out: [Explanation] = []
        var affinity = spec["affinity"]?.objectValue ?? [:]
        var nodeAffinity = affinity["nodeAffinity"]?.objectValue ?? [:]
        var preferred = nodeAffinity["preferredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? []
        var required = nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"]?.objectValue
        var changed = false

        func prefer(_ expr: JSONValue, weight: Int64) -> Bool {
            let term: JSONValue = ["weight": .integer(weight), "preference": ["matchExpressions": [expr]]]
            guard !preferred.contains(term) else { return false }
            preferred.append(term)
            return true
        }
        func require(_ expr: JSONValue) -> Bool {
            var r = required ?? [:]
            var terms = r["nodeSelectorTerms"]?.arrayValue ?? []
            if terms.isEmpty { terms = [[:]] }
            var added = false
            for i in terms.indices {
                var exprs = terms[i]["matchExpressions"]?.arrayValue ?? []
                if !exprs.contains(expr) {
                    exprs.append(expr)
                    terms[i]["matchExpressions"] = .array(exprs)
                    added = true
                }
            }
            r["nodeSelectorTerms"] = .array(terms)
            required = r
            return added
        }

        for d in datasets {
            let key = Keys.fluidCacheNodeLabel(namespace: d.ref.namespace, name: d.ref.name, uid: d.dataset.metadata.uid)
            let expr: JSONValue = ["key": .string(key), "operator": "In", "values": ["true"]]
            let isIPC: Bool
            if case .sharedMemory = d.access { isIPC = true } else { isIPC = false }
            if isIPC || podLabels[Keys.fluidSchedulingLabel(dataset: d.ref.name)] == "required" {
                if require(expr) {
                    changed = true
                    if explain {
                        out.append(Explanation(
                            dataset: d.ref.description, rule: "affinity-required",
                            text: isIPC
                                ? "required node affinity \(key)=true: \(d.ref) is read over a shared-memory socket, which exists only on nodes running its engine"
                                : "required node affinity \(key)=true (pod label \(Keys.fluidSchedulingLabel(dataset: d.ref.name))=required)"))
                    }
                }
            } else if prefer(expr, weight: 100) {
                changed = true
                if explain {
                    out.append(Explanation(
                        dataset: d.ref.description, rule: "affinity-preferred",
                        text: "preferred node affinity (weight 100) towards nodes Fluid labels \(key)=true, where \(d.ref)'s cache lives"))
                }
            }
        }
        if datasets.isEmpty, config.avoidCacheNodes {
            let expr: JSONValue = ["key": .string(Keys.fluidDatasetNum), "operator": "DoesNotExist"]
            if prefer(expr, weight: 100) {
                changed = true
                if explain {
                    out.append(Explanation(
                        dataset: nil, rule: "affinity-avoid-cache-nodes",
                        text: "the pod uses no dataset: preferred node affinity (weight 100) towards nodes without \(Keys.fluidDatasetNum), keeping cache nodes for pods that read their data"))
                }
            }
        }
        guard changed else { return [] }
        if !preferred.isEmpty { nodeAffinity["preferredDuringSchedulingIgnoredDuringExecution"] = .array(preferred) }
        if let required { nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"] = .object(required) }
        affinity["nodeAffinity"] = .object(nodeAffinity)
        spec["affinity"] = .object(affinity)
        return out
    }
}

extension FuseTemplate {
    /// The FUSE sidecar's security context: the runtime's own (user, SELinux, seccomp, …) with
    /// `privileged: true` and the one capability FUSE mounting needs, `SYS_ADMIN`. Privileged is
    /// not a choice here: the sidecar's mount reaches the app containers only through
    /// `Bidirectional` propagation, which the API server allows only in privileged containers
    /// (and a privileged container has `/dev/fuse`).
    var sidecarSecurityContext: JSONValue {
        var context = securityContext?.objectValue ?? [:]
        context["privileged"] = true
        var capabilities = context["capabilities"]?.objectValue ?? [:]
        var add = (capabilities["add"]?.arrayValue ?? []).filter { $0.stringValue != nil }  // only capability names
        if !add.contains("SYS_ADMIN") { add.append("SYS_ADMIN") }
        capabilities["add"] = .array(add)
        capabilities["drop"] = nil  // dropping capabilities of a privileged container is refused or void
        context["capabilities"] = .object(capabilities)
        return .object(context)
    }

    /// Why the runtime's security context rules out a FUSE sidecar (it asks for a container that
    /// cannot be privileged); nil when a sidecar can be built.
    var sidecarPrivilegeConflict: String? {
        guard let field = ["privileged", "allowPrivilegeEscalation"].first(where: { securityContext?[$0] == false }) else { return nil }
        return "its runtime's spec.fuse.securityContext sets \(field): false, but a FUSE sidecar must be a privileged container (its mount reaches the app containers only through Bidirectional mount propagation, which Kubernetes allows only in privileged containers, and a privileged container cannot have \(field): false); use serverful mode (label \(Keys.fluidServerfulInject)=true) for this dataset"
    }
}
