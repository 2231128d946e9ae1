import KubeClient

/// Why a dataset reference cannot be served; the pod's owner reads `description`.
public struct ResolutionProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable { case notFound, notBound, noRuntime, unknownEngine, otherNamespace, engine, malformed }
    public var dataset: String
    public var reason: Reason
    public var description: String
}
