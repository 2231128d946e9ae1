public import KubeClient

/// A dataset a pod uses, with everything needed to wire the pod to it.
public struct ResolvedDataset: Sendable {
    public var ref: DatasetRef
    public var dataset: Dataset
    public var runtime: FluidRuntime
    public var kind: FluidRuntimeKind
    public var access: DataAccess
    /// Pod volumes that mount the dataset's PVC (empty for an annotation reference).
    public var volumes: [String]
    /// The env ConfigMap the dataset names (`locus.dev/env-configmap`), if any.
    public var envConfigMap: String?
    /// The dataset's volume claim in the pod's namespace (Fluid names it after the dataset), if
    /// there is one: a pod can reach the data through it where hostPath is forbidden.
    public var claim: String?

    public var engine: String { kind.engineType }
}
