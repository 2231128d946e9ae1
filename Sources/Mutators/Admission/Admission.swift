public import Foundation
public import JSON
import KubeClient
public import Locality

/// The admission decision: pure over the request, the catalog and the policy.
public enum Admission {
    /// `memo` keeps dataset resolutions across reviews while the catalog is unchanged; `locality`
    /// (read only for a pod that asks to wait for warm data) and `now` decide the warm-up gate.
    public static func review(
        _ request: AdmissionRequest, catalog: any DatasetCatalog, policy: AdmissionPolicy, memo: ResolutionMemo? = nil,
        locality: LocalityIndex.Snapshot? = nil, now: Date = Date()
    ) -> AdmissionResult {
        review(request, catalog: catalog, policy: policy, memo: memo, locality: locality, now: now, stoppingForDetails: false)!
    }

    /// `stoppingForDetails`: nil, deciding nothing, where a dataset's wiring reads the containers'
    /// details (shared memory sets a variable in `env`): see `review(body:)`.
    static func review(
        _ request: AdmissionRequest, catalog: any DatasetCatalog, policy: AdmissionPolicy, memo: ResolutionMemo?,
        locality: LocalityIndex.Snapshot?, now: Date, stoppingForDetails: Bool
    ) -> AdmissionResult? {
        guard request.isPodCreate, let pod = request.object else {
            return AdmissionResult(
                response: .allow(uid: request.uid), outcome: .skipped, engines: [], explanations: [], problems: [], pod: nil)
        }
        let namespace = pod["metadata"]?["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? request.namespace ?? "default"
        return review(
            pod: pod, namespace: namespace, uid: request.uid, catalog: catalog, policy: policy, memo: memo, locality: locality, now: now,
            stoppingForDetails: stoppingForDetails)
    }

    /// Decides for one pod in `namespace` (also what `locus mutate` runs).
    public static func review(
        pod: JSONValue, namespace: String, uid: String, catalog: any DatasetCatalog, policy: AdmissionPolicy, memo: ResolutionMemo? = nil,
        locality: LocalityIndex.Snapshot? = nil, now: Date = Date()
    ) -> AdmissionResult {
        review(
            pod: pod, namespace: namespace, uid: uid, catalog: catalog, policy: policy, memo: memo, locality: locality, now: now,
            stoppingForDetails: false)!
    }

    static func review(
        pod: JSONValue, namespace: String, uid: String, catalog: any DatasetCatalog, policy: AdmissionPolicy, memo: ResolutionMemo?,
        locality: LocalityIndex.Snapshot?, now: Date, stoppingForDetails: Bool
    ) -> AdmissionResult? {
        let meta = pod["metadata"]
        let labels = StringMembers(meta?["labels"])
        let annotations = StringMembers(meta?["annotations"])
        let resolver = DatasetResolver(catalog: catalog, memo: memo)
        let namespaceLabels = resolver.namespaceLabels(namespace) ?? [:]
        guard
            let optIn = OptIn.evaluate(
                labels: labels, annotations: annotations, namespaceLabels: namespaceLabels, config: policy.mutation)
        else {
            return AdmissionResult(response: .allow(uid: uid), outcome: .skipped, engines: [], explanations: [], problems: [], pod: nil)
        }
        let found = resolver.resolve(pod: pod, namespace: namespace)
        if stoppingForDetails, found.datasets.contains(where: \.setsContainerEnvironment) { return nil }
        var datasets = found.datasets
        var socketProblems: [String] = []
        datasets.removeAll { d in
            guard case .sharedMemory(let endpoint) = d.access, !policy.mutation.socketDirectoryAllowed(endpoint.socketDirectory) else {
                return false
            }
            socketProblems.append(
                "dataset \(d.ref): its \(d.kind.rawValue)'s socket directory \(endpoint.socketDirectory) is not below an allowed socket "
                    + "root (\(policy.mutation.socketRoots.joined(separator: ", "))), so it is not mounted into the pod"
            )
            return true
        }
        let problems = found.problemTexts + socketProblems
        var engines: [String] = []
        for d in datasets where !engines.contains(d.engine) { engines.append(d.engine) }
        engines.sort()
        if !problems.isEmpty, policy.onFailure == .deny {
            return denial(uid: uid, problems: problems, engines: engines)
        }
        let mutation = PodMutator.mutate(
            pod: pod, labels: labels, namespace: namespace, datasets: datasets, optIn: optIn, config: policy.mutation,
            podSecurity: PodSecurity(namespaceLabels: namespaceLabels), explain: policy.explain)
        let allProblems = problems + mutation.problems
        if !mutation.problems.isEmpty, policy.onFailure == .deny {
            return denial(uid: uid, problems: allProblems, engines: engines)
        }
        let warm = WarmGate.decide(
            pod: mutation.pod, labels: labels, annotations: annotations, namespaceLabels: namespaceLabels, datasets: datasets,
            policy: policy.warm, locality: locality, now: now)
        let admitted = warm.wait.map { WarmGate.gated(mutation.pod, $0) } ?? mutation.pod
        let patch = JSONPatch.diff(from: pod, to: admitted)
        var warnings: [String] = []
        warnings.reserveCapacity(1 + allProblems.count + mutation.warnings.count + warm.warnings.count)
        if policy.announceInjections, !mutation.injections.isEmpty {
            warnings.append(announcement(mutation.injections))
        }
        for problem in allProblems { warnings.append("Locus admitted the pod without this dataset: \(problem)") }
        warnings += mutation.warnings
        warnings += warm.warnings
        var response = AdmissionResponse.allow(uid: uid, warnings: warnings)
        response.patch = patch
        let outcome: AdmissionResult.Outcome = !allProblems.isEmpty ? .allowedWithProblems : (patch.isEmpty ? .unchanged : .mutated)
        return AdmissionResult(
            response: response, outcome: outcome, engines: engines, explanations: mutation.explanations, problems: allProblems,
            pod: admitted, injections: mutation.injections, readsLiveState: warm.readsLiveState, warmWait: warm.wait)
    }
}

extension Admission {
    /// The pod denied with every problem as the reason (403, shown to whoever created the pod).
    static func denial(uid: String, problems: [String], engines: [String]) -> AdmissionResult {
        var response = AdmissionResponse.allow(uid: uid)
        response.allowed = false
        response.code = 403
        response.message = "Locus denied the pod: " + problems.joined(separator: "; ")
        return AdmissionResult(response: response, outcome: .denied, engines: engines, explanations: [], problems: problems, pod: nil)
    }

    /// One line for the pod's owner: each dataset wired, by which engine, and how.
    static func announcement(_ injections: [Injection]) -> String {
        // Appended into one string made large enough at once (this runs for every pod wired).
        var text = "Locus wired "
        text.reserveCapacity(96 + 96 * injections.count)
        for (i, injection) in injections.enumerated() {
            if i > 0 { text += "; " }
            text += injection.dataset
            text += " ("
            text += injection.engine
            text += ") through "
            text += injection.how.phrase
        }
        text += " (recorded in annotation "
        text += Keys.injected
        text += ")"
        return text
    }
}
