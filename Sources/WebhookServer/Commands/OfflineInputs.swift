import Foundation
import JSON
import KubeClient
import Locality

/// What `locus mutate` and `locus score` read: the config file, the cluster state (the built-in
/// example when none is named) and the pod manifest, each checked with a one-line reason.
enum OfflineInputs {
    static func load(
        config: String?, clusterState: String?, pod: String, doing: String
    ) throws -> (ServeConfig, ClusterStateFile, JSONValue) {
        var c = ServeConfig()
        if let config {
            try c.apply(file: config)
            try c.validate()
        }
        let state = try clusterState.map(ClusterStateFile.read) ?? ExampleState.clusterState()
        if clusterState == nil { FileHandle.standardError.write(Data("locus: \(doing) against the built-in example cluster state\n".utf8)) }
        let data = try FileAccess.read(pod, what: "pod")
        let manifest = try YAMLBridge.parse(String(decoding: data, as: UTF8.self), source: pod)
        guard manifest["kind"]?.stringValue == "Pod" else {
            throw ConfigError("\(pod): expected kind: Pod, got \(manifest["kind"]?.jsonString ?? "no kind")")
        }
        return (c, state, manifest)
    }
}
