import Foundation
public import JSON

/// Fluid's runtime kinds. Each has its own CRD; Locus reads the fields they share.
public enum FluidRuntimeKind: String, Codable, Sendable, CaseIterable, Hashable {
    case alluxio = "AlluxioRuntime"
    case juicefs = "JuiceFSRuntime"
    case jindo = "JindoRuntime"
    case goosefs = "GooseFSRuntime"
    case efc = "EFCRuntime"
    case thin = "ThinRuntime"
    case vineyard = "VineyardRuntime"

    public var plural: String { rawValue.lowercased().replacingOccurrences(of: "runtime", with: "runtimes") }
    /// The engine type as Fluid writes it in `Dataset.status.runtimes[].type`.
    public var engineType: String {
        switch self {
        case .alluxio: "alluxio"
        case .juicefs: "juicefs"
        case .jindo: "jindo"
        case .goosefs: "goosefs"
        case .efc: "efc"
        case .thin: "thin"
        case .vineyard: "vineyard"
        }
    }

    public init?(engineType: String) {
        guard let k = Self.allCases.first(where: { $0.engineType == engineType.lowercased() }) else { return nil }
        self = k
    }
}

/// Any Fluid runtime. Engine-specific sections (`fuse`, `worker`, `master`) are kept as JSON values.
public struct FluidRuntime: KubeObject, Hashable {
    public var kind: String?
    public var apiVersion: String?
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var replicas: Int?
        public var fuse: JSONValue?
        public var worker: JSONValue?
        public var master: JSONValue?
        public var tieredstore: TieredStore?
    }
    public struct TieredStore: Codable, Sendable, Hashable {
        public var levels: [Level]?
    }
    public struct Level: Codable, Sendable, Hashable {
        public var mediumtype: String?
        public var path: String?
        public var quota: String?
    }
    public struct Status: Codable, Sendable, Hashable {
        public var workerPhase: String?
        public var fusePhase: String?
        public var workerNumberReady: Int?
        public var fuseNumberReady: Int?
        public var selector: String?
        public var valueFile: String?
        public var cacheAffinity: JSONValue?
    }

    public var runtimeKind: FluidRuntimeKind? { kind.flatMap(FluidRuntimeKind.init(rawValue:)) }
}

// MARK: - apps/v1
