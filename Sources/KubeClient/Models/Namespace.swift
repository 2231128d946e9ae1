import Foundation

public struct Namespace: KubeObject, Hashable {
    public var metadata: ObjectMeta

    /// Decisions read a namespace's labels (opt-in, Pod Security) and nothing else.
    public var retained: Namespace { Namespace(metadata: metadata.identityAndLabels) }

    public init(metadata: ObjectMeta) { self.metadata = metadata }
}

// MARK: - data.fluid.io/v1alpha1
