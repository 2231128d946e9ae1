public import JSON
import KubeClient
public import Locality

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
                        notes.append(
                            Explanation(
                                dataset: d.ref.description, rule: "fuse-no-volume",
                                text:
                                    "\(d.ref) is a FUSE dataset (\(d.engine)) named by annotation, not mounted as a volume: nothing to "
                                    + "mount, scheduling hints only"
                            ))
                    }
                } else if optIn.fuseMode == .sidecar {
                    switch trial.injectFuseSidecar(
                        d, template: template, config: config, options: sidecarOptions, podNamespace: podNamespace, warnings: &trialWarnings
                    )
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
                        "dataset \(d.ref): namespace \(podNamespace) enforces Pod Security \(podSecurity.description), which forbids the "
                            + "hostPath volume that carries \(d.kind.rawValue)'s socket, and the dataset has no volume claim in "
                            + "namespace \(podNamespace) to reach the socket through; ways out: a namespace whose level allows hostPath "
                            + "(\(PodSecurity.enforceLabel)=privileged), or a dataset Fluid has bound (it creates the claim)"
                    )
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
                    let reason =
                        "namespace \(podNamespace) enforces Pod Security "
                        + "\(podSecurity.description)\(podSecurity.labelProblem.map { " (\($0))" } ?? ""), which \(what) for this "
                        + "dataset would break: \(introduced.joined(separator: "; "))"
                    guard config.podSecurityFallback == .serverful, case .fuse = d.access, wiring != .named else {
                        problems.append(
                            "dataset \(d.ref): \(reason); ways out: serverful mode (pod label \(Keys.fluidServerfulInject)=true: Fluid's "
                                + "CSI plugin mounts on the node and the pod needs no privilege), Locus's podSecurityFallback: serverful "
                                + "to choose it by itself, or a namespace whose level allows it (\(PodSecurity.enforceLabel)=privileged)"
                        )
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
                    explanations += draft.addEnvFrom(
                        configMap: cm, dataset: d.ref, includeInit: config.envIntoInitContainers, optional: false)
                } else {
                    warnings.append(
                        "dataset \(d.ref) names env ConfigMap \(cm), but a pod can only read ConfigMaps of its own namespace: not injected")
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
        if !datasets.isEmpty { draft.recordDatasetUsage(datasets) }
        return Mutation(pod: draft.finish(), explanations: explanations, warnings: warnings, injections: injections, problems: problems)
    }
}
