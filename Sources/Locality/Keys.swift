import KubeClient

/// Labels and annotations Locus reads and writes: its own `locus.dev/` keys and the Fluid keys
/// it honours so that manifests written for Fluid keep working.
public enum Keys {
    // Locus
    /// Pod or namespace label: `"true"` opts the pod (every pod of the namespace) in.
    public static let inject = "locus.dev/inject"
    /// Pod annotation: datasets reached without a volume, `name[,namespace/name…]`.
    public static let datasets = "locus.dev/datasets"
    /// Pod annotation written by Locus: `namespace/name=how` for every dataset wired in.
    public static let injected = "locus.dev/injected"
    /// Pod annotation: `sidecar` or `serverful`, the FUSE mode for a pod opted in with `locus.dev/inject`.
    public static let fuseMode = "locus.dev/fuse-mode"
    /// Dataset annotation: namespaces (comma-separated, or `*`) whose pods may use the dataset.
    public static let sharedWith = "locus.dev/shared-with"
    /// Dataset annotation: a ConfigMap in the dataset's namespace whose keys become env vars of the app containers.
    public static let envConfigMap = "locus.dev/env-configmap"
    /// Runtime annotation: the engine's socket directory on the node (shared-memory engines).
    public static let socketDirectory = "locus.dev/socket-dir"
    /// Runtime annotation: the engine's socket file in that directory (shared-memory engines).
    public static let socketFile = "locus.dev/socket-file"

    /// Pod or namespace label: `"true"` asks that the pod wait, gated, until its datasets are warm
    /// (`"false"` on a pod opts it out of a namespace's or the configuration's default).
    public static let warm = "locus.dev/warm"
    /// Pod annotation: how much of each dataset must be cached on one node, a share (`80%`) or bytes (`20Gi`).
    public static let warmThreshold = "locus.dev/warm-threshold"
    /// Pod annotation: the longest the pod waits for warm data (`10m`, `90s`, `1h`).
    public static let warmDeadline = "locus.dev/warm-deadline"
    /// The scheduling gate Locus adds to a pod that waits for warm data, and alone removes.
    public static let warmGate = "locus.dev/dataset-warm"
    /// Pod label `"true"` while the pod waits: the warm-up controller watches only these pods.
    public static let warmGated = "locus.dev/warm-gated"
    /// Pod annotation written at admission: what the gated pod waits for (`WarmWait`).
    public static let warmWaiting = "locus.dev/warm-waiting"
    /// Pod annotation written when the gate is lifted: why, and after how long.
    public static let warmOutcome = "locus.dev/warm-outcome"
    /// DataLoad label: the dataset Locus warms with it (its value `namespace.name` would not fit a
    /// label when long, so the name alone; the DataLoad lives in the dataset's namespace).
    public static let warmDataset = "locus.dev/warm-dataset"
    /// `app.kubernetes.io/managed-by` value on what Locus creates.
    public static let managedByLocus = "locus"

    // Fluid
    /// Pod annotation Fluid's `DatasetUsageInjector` writes: the names of the datasets the pod
    /// uses, sorted and comma-separated, so Fluid's controllers see which pods use a dataset.
    public static let fluidDatasetsInUse = "fluid.io/datasets-in-use"
    public static let fluidServerlessInject = "serverless.fluid.io/inject"
    public static let fluidServerfulInject = "fuse.serverful.fluid.io/inject"
    /// Pod label `"false"`: never inject.
    public static let fluidEnableInjection = "fluid.io/enable-injection"
    /// Pod label set by Fluid's own webhook once it injected a sidecar.
    public static let fluidSidecarDone = "done.sidecar.fluid.io/inject"
    /// Pod label `"false"`: no mount check on the FUSE sidecar.
    public static let fluidPostStartInject = "fuse.sidecar.poststart.fluid.io/inject"
    /// Pod label `"true"`: the FUSE sidecar is made unprivileged (Fluid's unprivileged mutator).
    public static let fluidUnprivilegedInject = "unprivileged.sidecar.fluid.io/inject"
    /// Pod label `"true"`: the FUSE sidecar keeps its DaemonSet's cache-directory volumes.
    public static let fluidCacheDirInject = "cachedir.sidecar.fluid.io/inject"
    /// Node label Fluid puts on nodes that count datasets cached there.
    public static let fluidDatasetNum = "fluid.io/dataset-num"
    public static let fluidManagedBy = "fluid.io/managed-by"
    public static let fluidWrappedBy = "fluid.io/wrapped-by"
    public static let fluidDatasetPVCPrefix = "fluid.io/s-"
    public static let fluidCSIDriver = "fuse.csi.fluid.io"
    /// Node label Fluid sets to `<namespace>_<name>` on nodes an Exclusive-placement dataset holds.
    public static let fluidExclusive = "fluid_exclusive"

    /// Pod label `fluid.io/dataset.<name>.sched: required` makes the dataset's node affinity required.
    public static func fluidSchedulingLabel(dataset: String) -> String { "fluid.io/dataset.\(dataset).sched" }

    /// The node label Fluid puts on nodes that hold a dataset's cache: `fluid.io/s-<namespace>-<name>`;
    /// when the name part would pass 63 characters Fluid uses the dataset's UID instead.
    public static func fluidCacheNodeLabel(namespace: String, name: String, uid: String?) -> String {
        fluidNodeLabel("s", namespace: namespace, name: name, uid: uid)
    }

    /// The node label Fluid puts on nodes running a dataset's FUSE: `fluid.io/f-<namespace>-<name>`.
    public static func fluidFuseNodeLabel(namespace: String, name: String, uid: String?) -> String {
        fluidNodeLabel("f", namespace: namespace, name: name, uid: uid)
    }

    static func fluidNodeLabel(_ kind: String, namespace: String, name: String, uid: String?) -> String {
        let part = "\(kind)-\(namespace)-\(name)"
        if part.count > 63, let uid, !uid.isEmpty { return "fluid.io/\(kind)-\(uid)" }
        return "fluid.io/\(part)"
    }
}
