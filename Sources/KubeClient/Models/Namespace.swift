import Foundation

public struct Namespace: KubeObject, Hashable {
    public var metadata: ObjectMeta

    public init(metadata: ObjectMeta) { self.metadata = metadata }
}

// MARK: - data.fluid.io/v1alpha1
