import JSON
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

/// How a dataset was wired into a pod: the value recorded in `locus.dev/injected` and the
/// `how` label of the injection metric.
public enum Wiring: String, Sendable, Hashable, CaseIterable {
    case fuseNativeSidecar = "fuse-native-sidecar"
    case fuseSidecar = "fuse-sidecar"
    case fuseUnprivilegedSidecar = "fuse-unprivileged-sidecar"
    case fuseServerful = "fuse-serverful"
    case sharedMemory = "shared-memory"
    /// A FUSE dataset named by annotation, without a volume: scheduling hints only.
    case named

    /// How, in words, for the owner's warning.
    var phrase: String {
        switch self {
        case .fuseNativeSidecar: "a privileged FUSE native sidecar"
        case .fuseSidecar: "a privileged FUSE sidecar container"
        case .fuseUnprivilegedSidecar: "an unprivileged FUSE sidecar"
        case .fuseServerful: "the node's FUSE (mount propagation only)"
        case .sharedMemory: "its shared-memory socket and env"
        case .named: "scheduling hints only"
        }
    }
}

/// One dataset wired into a pod: which, by which engine, and how.
public struct Injection: Sendable, Hashable {
    public var dataset: String
    public var engine: String
    public var how: Wiring

    public init(dataset: String, engine: String, how: Wiring) {
        self.dataset = dataset
        self.engine = engine
        self.how = how
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
    /// Nothing is injected that `podSecurity`, the namespace's enforced level, forbids: such a
    /// dataset is wired another way (serverful, or the volume claim), or becomes a problem.
    public static func mutate(
        pod: JSONValue, labels: [String: String], namespace podNamespace: String, datasets: [ResolvedDataset], optIn: OptIn,
        config: MutationConfig, podSecurity: PodSecurity = PodSecurity(level: .privileged), explain: Bool = true
    ) -> Mutation {
        var draft = PodDraft(pod)
        draft.explain = explain
        var explanations: [Explanation] = []
        var warnings: [String] = []
        var injections: [Injection] = []
        var problems: [String] = []
        var record = PodReferences.injectedRecord(pod)
        let sidecarOptions = FuseSidecarOptions(labels: labels)
        // Below privileged every level forbids hostPath volumes (and more: checked on each trial).
        let enforced = podSecurity.level > .privileged

        for d in datasets where record[d.ref] == nil {
            // Each dataset is wired into a trial copy, kept only once Pod Security allows it; its
            // warnings are kept with it.
            var trial = draft
            var trialWarnings: [String] = []
            var wiring: Wiring
            var notes: [Explanation] = []
            switch d.access {
            case .fuse(let template):
                if d.volumes.isEmpty {
                    wiring = .named
                    if explain {
                        notes.append(Explanation(
                            dataset: d.ref.description, rule: "fuse-no-volume",
                            text: "\(d.ref) is a FUSE dataset (\(d.engine)) named by annotation, not mounted as a volume: nothing to mount, scheduling hints only"))
                    }
                } else if optIn.fuseMode == .sidecar {
                    switch trial.injectFuseSidecar(
                        d, template: template, config: config, options: sidecarOptions, podNamespace: podNamespace, warnings: &trialWarnings)
                    {
                    case .failure(let problem):
                        problems.append("dataset \(d.ref): \(problem.text)")
                        continue
                    case .success(let (w, e)):
                        (wiring, notes) = (w, e)
                    }
                } else {
                    wiring = .fuseServerful
                    notes = trial.wireServerful(d, via: optIn.via)
                }
            case .sharedMemory(let endpoint):
                if enforced && d.claim == nil {
                    problems.append(
                        "dataset \(d.ref): namespace \(podNamespace) enforces Pod Security \(podSecurity.description), which forbids the hostPath volume that carries \(d.kind.rawValue)'s socket, and the dataset has no volume claim in namespace \(podNamespace) to reach the socket through; ways out: a namespace whose level allows hostPath (\(PodSecurity.enforceLabel)=privileged), or a dataset Fluid has bound (it creates the claim)")
                    continue
                }
                wiring = .sharedMemory
                notes = trial.injectSharedMemory(
                    d, endpoint: endpoint, config: config, claim: enforced ? d.claim : nil, warnings: &trialWarnings)
            }
            if enforced {
                let introduced = podSecurity.introducedViolations(before: draft.finish(), after: trial.finish())
                if !introduced.isEmpty {
                    let what = wiring == .sharedMemory ? "the shared-memory mount" : "the FUSE sidecar"
                    let reason = "namespace \(podNamespace) enforces Pod Security \(podSecurity.description)\(podSecurity.labelProblem.map { " (\($0))" } ?? ""), which \(what) for this dataset would break: \(introduced.joined(separator: "; "))"
                    guard config.podSecurityFallback == .serverful, case .fuse = d.access, wiring != .named else {
                        problems.append(
                            "dataset \(d.ref): \(reason); ways out: serverful mode (pod label \(Keys.fluidServerfulInject)=true: Fluid's CSI plugin mounts on the node and the pod needs no privilege), Locus's podSecurityFallback: serverful to choose it by itself, or a namespace whose level allows it (\(PodSecurity.enforceLabel)=privileged)")
                        continue
                    }
                    trial = draft
                    trialWarnings = []
                    wiring = .fuseServerful
                    trialWarnings.append("dataset \(d.ref) is served in serverful mode instead of a sidecar: \(reason)")
                    notes = trial.wireServerful(d, via: "podSecurityFallback: serverful, because \(reason)")
                }
            }
            draft = trial
            warnings += trialWarnings
            explanations += notes
            if let cm = d.envConfigMap {
                if d.ref.namespace == podNamespace {
                    explanations += draft.addEnvFrom(configMap: cm, dataset: d.ref, includeInit: config.envIntoInitContainers, optional: false)
                } else {
                    warnings.append("dataset \(d.ref) names env ConfigMap \(cm), but a pod can only read ConfigMaps of its own namespace: not injected")
                }
            }
            record[d.ref] = wiring.rawValue
            injections.append(Injection(dataset: d.ref.description, engine: d.engine, how: wiring))
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
