import KubeClient

/// Read access to the cluster objects dataset resolution needs. `ClusterCache` is one; lookups
/// are in memory (never an API call on the request path).
public protocol DatasetCatalog: Sendable {
    func persistentVolumeClaim(namespace: String, name: String) -> PersistentVolumeClaim?
    func persistentVolume(name: String) -> PersistentVolume?
    func dataset(namespace: String, name: String) -> Dataset?
    func runtime(namespace: String, name: String) -> FluidRuntime?
    func configMap(namespace: String, name: String) -> ConfigMap?
    func namespaceLabels(_ namespace: String) -> [String: String]?
    func daemonSet(namespace: String, name: String) -> DaemonSet?
    /// Whether `daemonSet` answers for the cluster (false: a cluster-state file without DaemonSets).
    var knowsDaemonSets: Bool { get }
}

extension ClusterCache: DatasetCatalog {
    public func persistentVolumeClaim(namespace: String, name: String) -> PersistentVolumeClaim? {
        persistentVolumeClaims.get(namespace: namespace, name: name)
    }
    public func persistentVolume(name: String) -> PersistentVolume? { persistentVolumes.get(namespace: nil, name: name) }
    public func dataset(namespace: String, name: String) -> Dataset? { datasets.get(namespace: namespace, name: name) }
    public func runtime(namespace: String, name: String) -> FluidRuntime? { runtimes.get(namespace: namespace, name: name) }
    public func configMap(namespace: String, name: String) -> ConfigMap? { configMaps.get(namespace: namespace, name: name) }
    public func namespaceLabels(_ namespace: String) -> [String: String]? {
        namespaces.get(namespace: nil, name: namespace)?.metadata.labels
    }
    public func daemonSet(namespace: String, name: String) -> DaemonSet? { daemonSets.get(namespace: namespace, name: name) }
}

/// `namespace/name` of a dataset.
public struct DatasetRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Parses `name` (in `defaultNamespace`) or `namespace/name`; nil when malformed.
    public init?(parsing text: some StringProtocol, defaultNamespace: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: self.init(namespace: defaultNamespace, name: String(parts[0]))
        case 2: self.init(namespace: String(parts[0]), name: String(parts[1]))
        default: return nil
        }
        guard Self.isDNSLabel(namespace), Self.isDNSSubdomain(name) else { return nil }
    }

    public var description: String { "\(namespace)/\(name)" }
    public static func < (a: Self, b: Self) -> Bool { (a.namespace, a.name) < (b.namespace, b.name) }

    static func isDNSLabel(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 63 && s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
            && s.first != "-" && s.last != "-"
    }
    static func isDNSSubdomain(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 253 && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel(String($0)) }
    }
}

/// How a pod named a dataset.
public enum DatasetReference: Sendable, Hashable {
    /// A pod volume mounting the dataset's PVC.
    case volume(volume: String, claim: String)
    /// The `locus.dev/datasets` annotation (or Locus's own record of an earlier injection).
    case named(DatasetRef)
}

/// A dataset a pod uses, with everything needed to wire the pod to it.
public struct ResolvedDataset: Sendable {
    public var ref: DatasetRef
    public var dataset: Dataset
    public var runtime: FluidRuntime
    public var kind: FluidRuntimeKind
    public var access: DataAccess
    /// Pod volumes that mount the dataset's PVC (empty for an annotation reference).
    public var volumes: [String]
    /// The env ConfigMap the dataset names (`locus.dev/env-configmap`), if any.
    public var envConfigMap: String?
    /// The dataset's volume claim in the pod's namespace (Fluid names it after the dataset), if
    /// there is one: a pod can reach the data through it where hostPath is forbidden.
    public var claim: String?

    public var engine: String { kind.engineType }
}

/// Why a dataset reference cannot be served; the pod's owner reads `description`.
public struct ResolutionProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable { case notFound, notBound, noRuntime, unknownEngine, otherNamespace, engine, malformed }
    public var dataset: String
    public var reason: Reason
    public var description: String
}

/// Turns a pod's dataset references into resolved datasets, from the catalog only.
public struct DatasetResolver: Sendable {
    public let catalog: any DatasetCatalog

    public init(catalog: any DatasetCatalog) { self.catalog = catalog }

    /// True when `claim` in `namespace` is a Fluid dataset PVC (or names a dataset whose PVC is not made yet).
    public func isDatasetClaim(namespace: String, claim: String) -> Bool {
        if let pvc = catalog.persistentVolumeClaim(namespace: namespace, name: claim) {
            let labels = pvc.metadata.labels ?? [:]
            return labels.keys.contains { $0.hasPrefix(Keys.fluidDatasetPVCPrefix) }
                || labels[Keys.fluidManagedBy] != nil || labels[Keys.fluidWrappedBy] != nil
        }
        return catalog.dataset(namespace: namespace, name: claim) != nil
    }

    /// Resolves every reference of a pod in `podNamespace`. References to one dataset are merged.
    public func resolve(_ references: [DatasetReference], podNamespace: String) -> (datasets: [ResolvedDataset], problems: [ResolutionProblem]) {
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
                    "it lives in namespace \(ref.namespace), which has not allowed namespace \(podNamespace) (Dataset annotation \(Keys.sharedWith))")
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
                "served by engine \"\(engineType)\", which Locus does not support (supported: \(FluidRuntimeKind.allCases.map(\.engineType).joined(separator: ", ")))")
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
