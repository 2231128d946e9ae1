public import JSON
import Locality

/// What the operator decides about mutations (config file keys of the same names).
public struct MutationConfig: Sendable, Equatable {
    public enum FuseMode: String, Sendable, CaseIterable {
        /// The engine's FUSE container runs in the pod.
        case sidecar
        /// The node's FUSE (Fluid's CSI plugin) serves the volume; the pod keeps its PVC.
        case serverful
    }

    /// FUSE mode for pods opted in with `locus.dev/inject` that do not say (`locus.dev/fuse-mode`).
    public var defaultFuseMode = FuseMode.serverful
    /// Native sidecars (init container with `restartPolicy: Always`, Kubernetes ≥ 1.29); else a plain first container.
    public var nativeSidecars = true
    /// Where shared-memory sockets appear in app containers.
    public var sharedMemoryMountPath = "/var/run/vineyard"
    /// Node directories a shared-memory engine's socket directory may lie in (Fluid's and the
    /// Vineyard operator's layouts). Runtimes are created by namespace users, so a runtime naming
    /// another host directory (`/`, `/etc`) must not become a hostPath mount in their pods.
    public var socketRoots = ["/runtime-mnt/vineyard", "/var/run/vineyard-kubernetes"]
    /// `envFrom` dataset ConfigMaps into init containers too.
    public var envIntoInitContainers = true
    /// Preferred node affinity towards nodes caching the pod's datasets (for clusters without the extender).
    public var schedulingHints = true
    /// Pods with no dataset prefer nodes without caches (Fluid's `fluid.io/dataset-num`).
    public var avoidCacheNodes = true
    /// Which locality levels become node affinity, and how strongly (Fluid's NodeAffinityWithCache).
    public var tieredLocality = TieredLocality.fluidDefault
    /// Resources of a FUSE sidecar whose runtime names none.
    public var fuseResources: JSONValue = [
        "requests": ["cpu": "100m", "memory": "256Mi"],
        "limits": ["memory": "4Gi"],
    ]
    /// What to do with a FUSE sidecar the namespace's Pod Security level forbids.
    public enum PodSecurityFallback: String, Sendable, CaseIterable {
        /// Deny the pod, saying which rule the sidecar would break and the ways out.
        case deny
        /// Serve the dataset in serverful mode instead (Fluid's CSI plugin), with a warning.
        case serverful
    }
    public var podSecurityFallback = PodSecurityFallback.deny
    /// The extended resource through which a device plugin hands `/dev/fuse` to an unprivileged
    /// FUSE sidecar (Fluid's `fluid.io/fuse`); empty: none is asked for.
    public var fuseDeviceResource = "fluid.io/fuse"
    /// Seconds a FUSE sidecar gets to mount before the app containers are started anyway (plain) or it is restarted (native).
    public var fuseMountTimeoutSeconds = 120

    public init() {}

    /// Fluid's tiered locality: preferred levels with their weights, and the levels made required
    /// for a pod labelled `fluid.io/dataset.<name>.sched: required`. `fluid.io/node` stands for the
    /// dataset's cache nodes (`fluid.io/s-<namespace>-<name>`), `fluid.io/fuse` for its FUSE nodes
    /// (`fluid.io/f-<namespace>-<name>`); any other name is a node label key whose terms are copied
    /// from the runtime's `status.cacheAffinity`.
    public struct TieredLocality: Sendable, Equatable {
        public var preferred: [(name: String, weight: Int64)]
        public var required: [String]

        public init(preferred: [(name: String, weight: Int64)], required: [String]) {
            self.preferred = preferred
            self.required = required
        }

        /// The defaults of Fluid's chart (`webhook-plugins` ConfigMap).
        public static let fluidDefault = TieredLocality(
            preferred: [("fluid.io/node", 100), ("topology.kubernetes.io/zone", 50), ("topology.kubernetes.io/region", 20)],
            required: ["fluid.io/node"])

        /// (Compared for every pod, as the key of a dataset's preferred terms: element by element,
        /// nothing copied, and at once when both share their storage, as copies of one do.)
        public static func == (a: Self, b: Self) -> Bool {
            guard a.required == b.required, a.preferred.count == b.preferred.count else { return false }
            return a.preferred.withUnsafeBufferPointer { x in
                b.preferred.withUnsafeBufferPointer { y in
                    x.baseAddress == y.baseAddress || zip(x, y).allSatisfy { $0.name == $1.name && $0.weight == $1.weight }
                }
            }
        }
    }

    /// Whether `directory` lies strictly below one of `socketRoots` (whole path components, no `..` or `.`).
    public func socketDirectoryAllowed(_ directory: String) -> Bool {
        let parts = directory.split(separator: "/", omittingEmptySubsequences: true)
        guard directory.hasPrefix("/"), !parts.contains("..") && !parts.contains(".") else { return false }
        return socketRoots.contains { root in
            let r = root.split(separator: "/", omittingEmptySubsequences: true)
            return parts.count > r.count && Array(parts.prefix(r.count)) == r
        }
    }

    /// Whether a Kubernetes `major.minor` version written as text (`1.29`, `v1.30.2`) has native
    /// sidecars; nil when the text is not such a version.
    public static func hasNativeSidecars(version: String) -> Bool? {
        let digits = version.drop { $0 == "v" }.split(separator: ".").prefix(2).map { Int($0.prefix { $0.isNumber }) }
        guard digits.count == 2, let major = digits[0], let minor = digits[1] else { return nil }
        return hasNativeSidecars(major: major, minor: minor)
    }

    /// Whether Kubernetes `major.minor` has native sidecars (init containers with
    /// `restartPolicy: Always`): 1.29 and later.
    public static func hasNativeSidecars(major: Int, minor: Int) -> Bool {
        major > 1 || (major == 1 && minor >= 29)
    }
}
