/// Why a cluster-state file could not be used.
public struct ClusterStateError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
