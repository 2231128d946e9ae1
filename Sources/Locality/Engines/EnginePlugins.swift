import Foundation
public import KubeClient

/// The plugin for each engine kind.
public enum EnginePlugins {
    public static let all: [FluidRuntimeKind: any EnginePlugin] = {
        var m: [FluidRuntimeKind: any EnginePlugin] = [:]
        for kind in FuseEngine.kinds { m[kind] = FuseEngine(kind: kind) }
        m[.juicefs] = JuiceFSEngine()
        m[.alluxio] = AlluxioEngine()
        m[.vineyard] = VineyardEngine()
        return m
    }()

    public static func plugin(for kind: FluidRuntimeKind) -> (any EnginePlugin)? { all[kind] }
}
