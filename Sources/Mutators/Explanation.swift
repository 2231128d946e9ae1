/// One change Locus made to a pod (or chose not to make), in plain words.
public struct Explanation: Sendable, Hashable {
    /// `namespace/name` of the dataset, nil for pod-wide changes.
    public var dataset: String?
    /// A short rule name: `fuse-sidecar`, `fuse-serverful`, `shared-memory`, `env-configmap`, `affinity`, …
    public var rule: String
    public var text: String

    public init(dataset: String?, rule: String, text: String) {
        self.dataset = dataset
        self.rule = rule
        self.text = text
    }
}
