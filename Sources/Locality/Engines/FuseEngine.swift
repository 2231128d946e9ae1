import JSON
public import KubeClient

/// Fluid's FUSE engines (Alluxio, JuiceFS, Jindo, GooseFS, EFC, Thin). The sidecar is the
/// container of the runtime's FUSE DaemonSet, as Fluid's webhook copies it; a cluster-state file
/// without DaemonSets falls back to one built from the runtime's `spec.fuse`.
public struct FuseEngine: EnginePlugin {
    public static let kinds: [FluidRuntimeKind] = [.alluxio, .juicefs, .jindo, .goosefs, .efc, .thin]

    public let kind: FluidRuntimeKind

    /// The directory name Fluid gives the FUSE mount under `/runtime-mnt/<engine>/<ns>/<name>/`.
    var fuseDirectory: String {
        switch kind {
        case .alluxio: "alluxio-fuse"
        case .juicefs: "juicefs-fuse"
        case .jindo: "jindofs-fuse"
        case .goosefs: "goosefs-fuse"
        case .efc: "efc-fuse"
        case .thin: "thin-fuse"
        case .vineyard: "vineyard-fuse"
        }
    }

    /// Images Fluid's charts default to when the runtime names none. ThinRuntime has no default:
    /// its FUSE image is the user's own (profile), so a Thin runtime without one is refused.
    var defaultImage: String? {
        switch kind {
        case .alluxio: "fluidcloudnative/alluxio-fuse:release-2.8.1-SNAPSHOT-0433ade"
        case .juicefs: "juicedata/juicefs-fuse:ce-v1.1.0"
        case .jindo: "registry.cn-shanghai.aliyuncs.com/jindofs/jindo-fuse:6.2.0"
        case .goosefs: "ccr.ccs.tencentyun.com/qcloud/goosefs-fuse:v1.2.0"
        case .efc: "registry.cn-zhangjiakou.aliyuncs.com/nascache/efc-fuse:v1.0.0"
        case .thin, .vineyard: nil
        }
    }

    /// The FUSE DaemonSet Fluid renders for runtime `name`: `<name>-fuse`, Jindo's `<name>-jindofs-fuse`.
    public func fuseDaemonSetName(runtime name: String) -> String {
        kind == .jindo ? "\(name)-jindofs-fuse" : "\(name)-fuse"
    }

    /// The `role` label Fluid's chart puts on the FUSE DaemonSet (`juicefs-fuse`; Jindo's chart
    /// is `jindofs`), the label `LiveCluster.fuseDaemonSetSelector` selects on.
    var fuseRole: String { kind == .jindo ? "jindofs-fuse" : "\(kind.engineType)-fuse" }

    public func access(dataset: Dataset, runtime: FluidRuntime, volume: PersistentVolume?, catalog: any DatasetCatalog) throws -> DataAccess
    {
        let ns = runtime.metadata.namespace ?? ""
        let name = runtime.metadata.name ?? ""
        let attributes = volume?.spec?.csi?.volumeAttributes ?? [:]
        let mountPath = attributes["fluid_path"] ?? "/runtime-mnt/\(kind.engineType)/\(ns)/\(name)/\(fuseDirectory)"
        let subPath = attributes["fluid_sub_path"].flatMap { $0.isEmpty ? nil : $0 }
        let sidecar: FuseSidecarSource
        if catalog.knowsDaemonSets {
            sidecar = daemonSetSidecar(namespace: ns, runtime: name, catalog: catalog)
        } else {
            sidecar = runtimeSpecSidecar(runtime: runtime, mountPath: mountPath)
        }
        return .fuse(FuseTemplate(mountPath: mountPath, subPath: subPath, sidecar: sidecar))
    }

    /// The first container of the runtime's FUSE DaemonSet and the volumes it mounts, as Fluid's
    /// webhook takes them (`GetFuseContainerTemplate`).
    func daemonSetSidecar(namespace ns: String, runtime name: String, catalog: any DatasetCatalog) -> FuseSidecarSource {
        let dsName = fuseDaemonSetName(runtime: name)
        guard let ds = catalog.daemonSet(namespace: ns, name: dsName) else {
            if let labels = catalog.daemonSetLabels(namespace: ns, name: dsName) {
                let role = fuseRole
                let has = labels["role"].map { "its role label is \"\($0)\"" } ?? "it has no role label"
                return .unavailable(
                    "its FUSE DaemonSet \(ns)/\(dsName) exists, but \(has), not \"\(role)\": Fluid's charts label it role: \(role), "
                        + "and Locus reads only the DaemonSets labelled so (label it, or let Fluid render it again)"
                )
            }
            return .unavailable(
                "its FUSE DaemonSet \(ns)/\(dsName) does not exist: Fluid renders it when it sets up \(kind.rawValue) \(ns)/\(name), and "
                    + "the sidecar is a copy of its container"
            )
        }
        guard let container = ds.containers.first?.objectValue else {
            return .unavailable("its FUSE DaemonSet \(ns)/\(dsName) has no container to copy")
        }
        let mounted = Set((container["volumeMounts"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        let volumes = ds.volumes.filter { $0["name"]?.stringValue.map(mounted.contains) ?? false }
        return .daemonSet(namespace: ns, name: dsName, container: container, volumes: volumes)
    }

    /// A FUSE container from the runtime's `spec.fuse` (image and tag, pull policy, command, args,
    /// env, resources, security context), mounting the dataset's mount point.
    func runtimeSpecSidecar(runtime: FluidRuntime, mountPath: String) -> FuseSidecarSource {
        let fuse = runtime.spec?.fuse
        let image: String
        if let repo = fuse?["image"]?.stringValue, !repo.isEmpty {
            let tag = fuse?["imageTag"]?.stringValue ?? ""
            image = tag.isEmpty || repo.utf8.contains(UInt8(ascii: "@")) ? repo : "\(repo):\(tag)"
        } else if let d = defaultImage {
            image = d
        } else {
            return .unavailable(
                "its \(kind.rawValue) \(runtime.metadata.key) names no FUSE image in spec.fuse.image, so its sidecar cannot be built")
        }
        let volume = "\(fuseDirectory)-mount"
        var container: JSONObject = [
            "name": .string(fuseDirectory),
            "image": .string(image),
            "volumeMounts": [["name": .string(volume), "mountPath": .string(mountPath), "mountPropagation": "Bidirectional"]],
        ]
        if let policy = fuse?["imagePullPolicy"]?.stringValue { container["imagePullPolicy"] = .string(policy) }
        for key in ["command", "args"] {
            if let list = fuse?[key]?.arrayValue?.compactMap(\.stringValue) { container[key] = .array(list.map { .string($0) }) }
        }
        // Only values of the right shape are copied.
        if let env = fuse?["env"], env.arrayValue != nil { container["env"] = env }
        for key in ["resources", "securityContext"] {
            if let v = fuse?[key], v.objectValue != nil { container[key] = v }
        }
        return .runtimeSpec(
            container: container,
            volumes: [["name": .string(volume), "hostPath": ["path": .string(mountPath), "type": "DirectoryOrCreate"]]])
    }
}
