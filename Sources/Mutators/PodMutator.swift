public import JSON
import KubeClient
public import Locality

/// The pod reading and rewriting: pure functions over pod JSON.
public enum PodMutator {
    static func recordText(_ record: [DatasetRef: String]) -> String {
        if record.count == 1, let (ref, how) = record.first { return "\(ref)=\(how)" }
        return record.keys.sorted().map { "\($0)=\(record[$0]!)" }.joined(separator: ",")
    }

    /// Rewrites `pod` so it reaches each of `datasets` through its engine. Datasets already in
    /// Locus's record are left as they are, so running this on its own output changes nothing.
    /// `labels` are the pod's string labels (read once by the caller, which decided the opt-in on them).
    /// Nothing is injected that `podSecurity`, the namespace's enforced level, forbids: such a
    /// dataset is wired another way (serverful, or the volume claim), or becomes a problem.
    public static func mutate(
        pod: JSONValue, labels: StringMembers, namespace podNamespace: String, datasets: [ResolvedDataset], optIn: OptIn,
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

        for d in datasets where record[d.ref] == nil {
            let wired: Wired
            switch wire(
                d, into: draft, optIn: optIn, config: config, options: sidecarOptions, podNamespace: podNamespace,
                podSecurity: podSecurity)
            {
            case .failure(let problem):
                problems.append(problem.text)
                continue
            case .success(let w): wired = w
            }
            draft = wired.draft
            warnings += wired.warnings
            explanations += wired.notes
            if let cm = d.envConfigMap {
                if d.ref.namespace == podNamespace {
                    explanations += draft.addEnvFrom(
                        configMap: cm, dataset: d.ref, includeInit: config.envIntoInitContainers, optional: false)
                } else {
                    warnings.append(
                        "dataset \(d.ref) names env ConfigMap \(cm), but a pod can only read ConfigMaps of its own namespace: not injected")
                }
            }
            record[d.ref] = wired.wiring.rawValue
            injections.append(Injection(dataset: d.refDescription, engine: d.engine, how: wired.wiring))
        }

        if config.schedulingHints {
            explanations += draft.addSchedulingHints(datasets: datasets, podLabels: labels, config: config)
        }
        if !record.isEmpty {
            draft.setAnnotation(Keys.injected, recordText(record))
        }
        if !datasets.isEmpty { draft.recordDatasetUsage(datasets) }
        return Mutation(pod: draft.finish(), explanations: explanations, warnings: warnings, injections: injections, problems: problems)
    }

    /// A dataset wired into a trial copy of the pod, with its warnings and explanations.
    struct Wired {
        var draft: PodDraft
        var wiring: Wiring
        var notes: [Explanation]
        var warnings: [String]
    }

    /// Why a dataset is not wired, in one sentence naming it.
    struct NotWired: Error {
        var text: String
    }

    /// `d` wired into a copy of `draft` as its access asks, kept only if the namespace's Pod
    /// Security level allows it (or, for FUSE with `podSecurityFallback: serverful`, wired
    /// serverful instead); else why not.
    static func wire(
        _ d: ResolvedDataset, into draft: PodDraft, optIn: OptIn, config: MutationConfig, options: FuseSidecarOptions,
        podNamespace: String, podSecurity: PodSecurity
    ) -> Result<Wired, NotWired> {
        // Below privileged every level forbids hostPath volumes (and more: checked on the trial).
        let enforced = podSecurity.level > .privileged
        var trial = draft
        var warnings: [String] = []
        let wiring: Wiring
        let notes: [Explanation]
        switch d.access {
        case .fuse(let template):
            switch wireFuse(
                d, template: template, into: &trial, optIn: optIn, config: config, options: options, podNamespace: podNamespace,
                warnings: &warnings)
            {
            case .failure(let problem): return .failure(problem)
            case .success(let (w, n)): (wiring, notes) = (w, n)
            }
        case .sharedMemory(let endpoint):
            if enforced && d.claim == nil {
                return .failure(
                    NotWired(
                        text: "dataset \(d.ref): namespace \(podNamespace) enforces Pod Security \(podSecurity.description), which forbids "
                            + "the hostPath volume that carries \(d.kind.rawValue)'s socket, and the dataset has no volume claim in "
                            + "namespace \(podNamespace) to reach the socket through; ways out: a namespace whose level allows hostPath "
                            + "(\(PodSecurity.enforceLabel)=privileged), or a dataset Fluid has bound (it creates the claim)"))
            }
            wiring = .sharedMemory
            notes = trial.injectSharedMemory(d, endpoint: endpoint, config: config, claim: enforced ? d.claim : nil, warnings: &warnings)
        }
        let wired = Wired(draft: trial, wiring: wiring, notes: notes, warnings: warnings)
        guard enforced else { return .success(wired) }
        return allowedByPodSecurity(wired, d, before: draft, config: config, podNamespace: podNamespace, podSecurity: podSecurity)
    }

    /// A FUSE dataset: named only (no volume), a sidecar, or serverful.
    static func wireFuse(
        _ d: ResolvedDataset, template: FuseTemplate, into trial: inout PodDraft, optIn: OptIn, config: MutationConfig,
        options: FuseSidecarOptions, podNamespace: String, warnings: inout [String]
    ) -> Result<(Wiring, [Explanation]), NotWired> {
        if d.volumes.isEmpty {
            guard trial.explain else { return .success((.named, [])) }
            return .success(
                (
                    .named,
                    [
                        Explanation(
                            dataset: d.refDescription, rule: "fuse-no-volume",
                            text: "\(d.ref) is a FUSE dataset (\(d.engine)) named by annotation, not mounted as a volume: nothing to "
                                + "mount, scheduling hints only")
                    ]
                ))
        }
        guard optIn.fuseMode == .sidecar else { return .success((.fuseServerful, trial.wireServerful(d, via: optIn.via))) }
        return trial.injectFuseSidecar(
            d, template: template, config: config, options: options, podNamespace: podNamespace, warnings: &warnings
        ).mapError { NotWired(text: "dataset \(d.ref): \($0.text)") }
    }

    /// `wired` if the Pod Security level enforced in the namespace allows what it adds to `before`;
    /// else, for a FUSE sidecar with `podSecurityFallback: serverful`, the dataset served
    /// serverful with a warning; else why not, with the ways out.
    static func allowedByPodSecurity(
        _ wired: Wired, _ d: ResolvedDataset, before: PodDraft, config: MutationConfig, podNamespace: String, podSecurity: PodSecurity
    ) -> Result<Wired, NotWired> {
        let introduced = podSecurity.introducedViolations(before: before.finish(), after: wired.draft.finish())
        guard !introduced.isEmpty else { return .success(wired) }
        let what = wired.wiring == .sharedMemory ? "the shared-memory mount" : "the FUSE sidecar"
        let reason =
            "namespace \(podNamespace) enforces Pod Security "
            + "\(podSecurity.description)\(podSecurity.labelProblem.map { " (\($0))" } ?? ""), which \(what) for this "
            + "dataset would break: \(introduced.joined(separator: "; "))"
        guard config.podSecurityFallback == .serverful, case .fuse = d.access, wired.wiring != .named else {
            return .failure(
                NotWired(
                    text: "dataset \(d.ref): \(reason); ways out: serverful mode (pod label \(Keys.fluidServerfulInject)=true: Fluid's "
                        + "CSI plugin mounts on the node and the pod needs no privilege), Locus's podSecurityFallback: serverful "
                        + "to choose it by itself, or a namespace whose level allows it (\(PodSecurity.enforceLabel)=privileged)"))
        }
        var trial = before
        let notes = trial.wireServerful(d, via: "podSecurityFallback: serverful, because \(reason)")
        return .success(
            Wired(
                draft: trial, wiring: .fuseServerful, notes: notes,
                warnings: ["dataset \(d.ref) is served in serverful mode instead of a sidecar: \(reason)"]))
    }
}
