public import JSON

/// How a FUSE engine's data reaches a pod: where the FUSE process mounts the dataset, and the
/// container that does it when it runs in the pod (sidecar mode).
public struct FuseTemplate: Sendable, Hashable {
    /// Where the FUSE process mounts the dataset, in its container and on a node (Fluid's `fluid_path`).
    public var mountPath: String
    /// The part of the dataset a PV exposes (Fluid's `fluid_sub_path`); nil for all of it.
    public var subPath: String?
    /// The FUSE container for sidecar mode, or why there is none.
    public var sidecar: FuseSidecarSource

    public init(mountPath: String, subPath: String? = nil, sidecar: FuseSidecarSource) {
        self.mountPath = mountPath
        self.subPath = subPath
        self.sidecar = sidecar
    }
}

/// Where a FUSE sidecar's container comes from.
public enum FuseSidecarSource: Sendable, Hashable {
    /// The first container of the runtime's FUSE DaemonSet, which Fluid renders from its chart
    /// (mount script, credentials from Secrets, preStop unmount), and the volumes it mounts.
    case daemonSet(namespace: String, name: String, container: JSONObject, volumes: [JSONValue])
    /// Built from the runtime's `spec.fuse` alone: only for a cluster-state file that carries no
    /// DaemonSets. `volumes` holds the mount point.
    case runtimeSpec(container: JSONObject, volumes: [JSONValue])
    /// No sidecar can be built, and why (the DaemonSet does not exist yet, no image is named).
    case unavailable(String)
}
