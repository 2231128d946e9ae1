/// Fluid's FUSE engines (Alluxio, JuiceFS, Jindo, GooseFS, EFC, Thin). The sidecar is built
/// from the runtime's `spec.fuse`: image and tag, pull policy, command, args, env, resources,
/// security context.
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

    public func access(dataset: Dataset, runtime: FluidRuntime, volume: PersistentVolume?) throws -> DataAccess {
        let fuse = runtime.spec?.fuse
        let ns = runtime.metadata.namespace ?? ""
        let name = runtime.metadata.name ?? ""
        let image: String
        if let repo = fuse?["image"]?.stringValue, !repo.isEmpty {
            let tag = fuse?["imageTag"]?.stringValue ?? ""
            image = tag.isEmpty || repo.utf8.contains(UInt8(ascii: "@")) ? repo : "\(repo):\(tag)"
        } else if let d = defaultImage {
            image = d
        } else {
            throw EngineError("\(kind.rawValue) \(ns)/\(name) names no FUSE image in spec.fuse.image, so its sidecar cannot be built")
        }
        let attributes = volume?.spec?.csi?.volumeAttributes ?? [:]
        var mountPath = attributes["fluid_path"] ?? "/runtime-mnt/\(kind.engineType)/\(ns)/\(name)/\(fuseDirectory)"
        if let sub = attributes["fluid_sub_path"], !sub.isEmpty { mountPath += "/" + sub }
        func strings(_ key: String) -> [String]? {
            fuse?[key]?.arrayValue?.compactMap(\.stringValue)
        }
        return .fuse(
            FuseTemplate(
                image: image,
                imagePullPolicy: fuse?["imagePullPolicy"]?.stringValue,
                command: strings("command"),
                args: strings("args"),
                // Only values of the right shape (a closure returning `nil` here would make JSON null).
                env: fuse?["env"]?.arrayValue != nil ? fuse?["env"] : nil,
                resources: fuse?["resources"]?.objectValue != nil ? fuse?["resources"] : nil,
                securityContext: fuse?["securityContext"]?.objectValue != nil ? fuse?["securityContext"] : nil,
                mountPath: mountPath))
    }
}
