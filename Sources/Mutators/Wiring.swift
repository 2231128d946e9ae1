/// How a dataset was wired into a pod: the value recorded in `locus.dev/injected` and the
/// `how` label of the injection metric.
public enum Wiring: String, Sendable, Hashable, CaseIterable {
    case fuseNativeSidecar = "fuse-native-sidecar"
    case fuseSidecar = "fuse-sidecar"
    case fuseUnprivilegedSidecar = "fuse-unprivileged-sidecar"
    case fuseServerful = "fuse-serverful"
    case sharedMemory = "shared-memory"
    /// A FUSE dataset named by annotation, without a volume: scheduling hints only.
    case named

    /// How, in words, for the owner's warning.
    var phrase: String {
        switch self {
        case .fuseNativeSidecar: "a privileged FUSE native sidecar"
        case .fuseSidecar: "a privileged FUSE sidecar container"
        case .fuseUnprivilegedSidecar: "an unprivileged FUSE sidecar"
        case .fuseServerful: "the node's FUSE (mount propagation only)"
        case .sharedMemory: "its shared-memory socket and env"
        case .named: "scheduling hints only"
        }
    }
}
