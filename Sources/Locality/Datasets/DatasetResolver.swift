import Foundation
public import JSON
import KubeClient

/// Turns a pod's dataset references into resolved datasets, from the catalog only.
public struct DatasetResolver: Sendable {
    public let catalog: any DatasetCatalog
    /// Earlier answers over the same catalog revision, when given.
    public let memo: ResolutionMemo?
    /// The catalog's revision when this resolver was made: the answers it files in the memo
    /// were read no earlier than that.
    let revision: UInt64

    public init(catalog: any DatasetCatalog, memo: ResolutionMemo? = nil) {
        self.catalog = catalog
        self.memo = memo
        revision = memo == nil ? 0 : catalog.revision
    }

    /// The labels of namespace `name` (nil: no such namespace known).
    public func namespaceLabels(_ name: String) -> [String: String]? {
        guard let memo else { return catalog.namespaceLabels(name) }
        return memo.namespaceLabels(name, revision: revision) { catalog.namespaceLabels(name) }
    }

    /// True when `claim` in `namespace` is a Fluid dataset PVC (or names a dataset whose PVC is not made yet).
    public func isDatasetClaim(namespace: String, claim: String) -> Bool {
        guard let memo else { return readIsDatasetClaim(namespace: namespace, claim: claim) }
        return memo.isDatasetClaim(namespace: namespace, claim: claim, revision: revision) {
            readIsDatasetClaim(namespace: namespace, claim: claim)
        }
    }

    func readIsDatasetClaim(namespace: String, claim: String) -> Bool {
        if let pvc = catalog.persistentVolumeClaim(namespace: namespace, name: claim) {
            let labels = pvc.metadata.labels ?? [:]
            return labels.keys.contains { $0.hasPrefix(Keys.fluidDatasetPVCPrefix) }
                || labels[Keys.fluidManagedBy] != nil || labels[Keys.fluidWrappedBy] != nil
        }
        return catalog.dataset(namespace: namespace, name: claim) != nil
    }

    /// Resolves every reference of a pod in `podNamespace`. References to one dataset are merged.
    public func resolve(_ references: [DatasetReference], podNamespace: String) -> (
        datasets: [ResolvedDataset], problems: [ResolutionProblem]
    ) {
        guard let memo else { return readResolve(references, podNamespace: podNamespace) }
        return memo.resolution(namespace: podNamespace, references: references, revision: revision) {
            readResolve(references, podNamespace: podNamespace)
        }
    }

    func readResolve(_ references: [DatasetReference], podNamespace: String) -> (
        datasets: [ResolvedDataset], problems: [ResolutionProblem]
    ) {
        var order: [DatasetRef] = []
        var volumes: [DatasetRef: [String]] = [:]
        var claims: [DatasetRef: String] = [:]
        for r in references {
            let ref: DatasetRef
            switch r {
            case .volume(let volume, let claim):
                ref = DatasetRef(namespace: podNamespace, name: claim)
                volumes[ref, default: []].append(volume)
                claims[ref] = claim
            case .named(let named):
                ref = named
            }
            if !order.contains(ref) { order.append(ref) }
        }
        var out: [ResolvedDataset] = []
        var problems: [ResolutionProblem] = []
        for ref in order {
            switch resolve(ref, podNamespace: podNamespace, claim: claims[ref]) {
            case .success(var d):
                d.volumes = volumes[ref] ?? []
                out.append(d)
            case .failure(let p): problems.append(p)
            }
        }
        return (out, problems)
    }

    func resolve(_ ref: DatasetRef, podNamespace: String, claim: String?) -> Result<ResolvedDataset, ResolutionProblem> {
        func problem(_ reason: ResolutionProblem.Reason, _ text: String) -> Result<ResolvedDataset, ResolutionProblem> {
            .failure(ResolutionProblem(dataset: ref.description, reason: reason, description: "dataset \(ref): \(text)"))
        }
        guard let dataset = catalog.dataset(namespace: ref.namespace, name: ref.name) else {
            return problem(.notFound, "no such Dataset")
        }
        if ref.namespace != podNamespace {
            let allowed = (dataset.metadata.annotations?[Keys.sharedWith] ?? "")
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard allowed.contains("*") || allowed.contains(podNamespace) else {
                return problem(
                    .otherNamespace,
                    "it lives in namespace \(ref.namespace), which has not allowed namespace \(podNamespace) (Dataset annotation "
                        + "\(Keys.sharedWith))"
                )
            }
        }
        guard dataset.status?.phase == "Bound" else {
            return problem(.notBound, "not bound to a runtime yet (phase \(dataset.status?.phase ?? "none"))")
        }
        guard let runtimeRef = dataset.status?.runtimes?.first ?? dataset.spec?.runtimes?.first else {
            return problem(.noRuntime, "bound, but its status names no runtime")
        }
        let engineType = runtimeRef.type ?? ""
        guard let kind = FluidRuntimeKind(engineType: engineType), let plugin = EnginePlugins.plugin(for: kind) else {
            return problem(
                .unknownEngine,
                "served by engine \"\(engineType)\", which Locus does not support (supported: "
                    + "\(FluidRuntimeKind.allCases.map(\.engineType).joined(separator: ", ")))"
            )
        }
        let runtimeNamespace = runtimeRef.namespace ?? ref.namespace
        let runtimeName = runtimeRef.name ?? ref.name
        guard let runtime = catalog.runtime(namespace: runtimeNamespace, name: runtimeName), runtime.runtimeKind == kind else {
            return problem(.noRuntime, "its \(kind.rawValue) \(runtimeNamespace)/\(runtimeName) does not exist")
        }
        let pv = claim.flatMap { catalog.persistentVolumeClaim(namespace: podNamespace, name: $0)?.spec?.volumeName }
            .flatMap { catalog.persistentVolume(name: $0) }
        let access: DataAccess
        do {
            access = try plugin.access(dataset: dataset, runtime: runtime, volume: pv, catalog: catalog)
        } catch {
            return problem(.engine, "\(error)")
        }
        return .success(
            ResolvedDataset(
                ref: ref, dataset: dataset, runtime: runtime, kind: kind, access: access, volumes: [],
                envConfigMap: dataset.metadata.annotations?[Keys.envConfigMap],
                claim: ref.namespace == podNamespace && catalog.persistentVolumeClaim(namespace: podNamespace, name: ref.name) != nil
                    ? ref.name : nil))
    }
}

extension DatasetResolver {
    /// A pod's datasets: the references it makes (`PodReferences`), resolved. The one reading of
    /// a pod's datasets, for the webhook and the extender alike.
    public func resolve(pod: JSONValue, namespace: String) -> PodDatasets {
        let (refs, malformed) = PodReferences.references(pod: pod, namespace: namespace) {
            isDatasetClaim(namespace: namespace, claim: $0)
        }
        guard !refs.isEmpty else { return PodDatasets(datasets: [], problems: [], malformed: malformed) }
        let (datasets, problems) = resolve(refs, podNamespace: namespace)
        return PodDatasets(datasets: datasets, problems: problems, malformed: malformed)
    }
}

/// What `DatasetResolver.resolve(pod:namespace:)` found.
public struct PodDatasets: Sendable {
    public var datasets: [ResolvedDataset]
    public var problems: [ResolutionProblem]
    /// `locus.dev/datasets` entries that are not a dataset name or `namespace/name`.
    public var malformed: [String]

    /// Every problem as a sentence: the malformed entries first, then the resolution problems.
    public var problemTexts: [String] {
        malformed.map { "annotation \(Keys.datasets): \"\($0)\" is not a dataset name or namespace/name" } + problems.map(\.description)
    }
}
