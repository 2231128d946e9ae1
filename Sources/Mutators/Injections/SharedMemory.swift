import JSON
import KubeClient
import Locality

extension PodDraft {
    /// Mounts a shared-memory engine's socket directory into every app container and points
    /// clients at the socket (`VINEYARD_IPC_SOCKET`), then `envFrom` the engine's ConfigMap.
    /// The directory comes from the node (hostPath), or, with `claim`, through the dataset's
    /// volume claim, whose volume Fluid publishes with the socket in it: the way in where the
    /// namespace's Pod Security forbids hostPath volumes.
    mutating func injectSharedMemory(
        _ d: ResolvedDataset, endpoint: SharedMemoryEndpoint, config: MutationConfig, claim: String?, warnings: inout [String]
    ) -> [Explanation] {
        let volume = Self.unique("locus-\(d.engine)-\(d.ref.name)", taken: &takenVolumeNames)
        let source: String
        if let claim {
            volumes.append(["name": .string(volume), "persistentVolumeClaim": ["claimName": .string(claim)]])
            source = "volume claim \(claim) (Fluid publishes the engine's socket in it; hostPath is forbidden here)"
        } else {
            volumes.append(["name": .string(volume), "hostPath": ["path": .string(endpoint.socketDirectory), "type": "Directory"]])
            source = "socket directory \(endpoint.socketDirectory) (node)"
        }
        let mountPath = config.sharedMemoryMountPath
        let socketPath = mountPath + "/" + endpoint.socketFile
        var mounted: [String] = []
        for i in containers.indices {
            let cname = containers[i]["name"]?.stringValue ?? "#\(i)"
            var mounts = containers[i]["volumeMounts"]?.arrayValue ?? []
            if mounts.contains(where: { $0["mountPath"]?.stringValue == mountPath }) {
                warnings.append("container \(cname) already mounts something at \(mountPath): the \(d.ref) socket was not mounted there")
                continue
            }
            mounts.append(["name": .string(volume), "mountPath": .string(mountPath)])
            containers[i]["volumeMounts"] = .array(mounts)
            var env = containers[i]["env"]?.arrayValue ?? []
            if let existing = env.first(where: { $0["name"]?.stringValue == endpoint.socketEnvironmentVariable }) {
                if existing["value"]?.stringValue != socketPath {
                    warnings.append("container \(cname) sets \(endpoint.socketEnvironmentVariable) itself; left as it is")
                }
            } else {
                env.append(["name": .string(endpoint.socketEnvironmentVariable), "value": .string(socketPath)])
                containers[i]["env"] = .array(env)
            }
            mounted.append(cname)
        }
        var out: [Explanation] = []
        if explain {
            out.append(
                Explanation(
                    dataset: d.refDescription, rule: Wiring.sharedMemory.rawValue,
                    text:
                        "mounted \(d.kind.rawValue)'s \(source) at \(mountPath) in "
                        + "\(mounted.isEmpty ? "no container" : mounted.joined(separator: ", ")) and set "
                        + "\(endpoint.socketEnvironmentVariable)=\(socketPath), so clients reach the shared-memory copy with no code "
                        + "change"
                ))
        }
        out += addEnvFrom(configMap: endpoint.configMap, dataset: d.ref, includeInit: false, optional: true)
        return out
    }
}
