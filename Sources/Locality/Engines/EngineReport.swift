import Foundation

/// What an engine said about one dataset.
public struct EngineReport: Sendable {
    public var source: LocalitySource
    /// node → what is cached there. A node the engine answered for with nothing cached holds a
    /// zero figure (an exact "none here", which beats Fluid's estimate).
    public var nodes: [String: Observation]
    /// Endpoints that failed, timed out or answered something else, in words for the log.
    public var problems: [String]
    /// Shared memory per node as the engine reports it (used / limit), for metrics and `locus score`.
    public var memory: [String: (used: Int64, limit: Int64)]
    /// The nodes the engine has workers on now, when it knows: a figure said earlier about any
    /// other node is dropped at once (its worker moved or is gone), not left to expire. nil: the
    /// engine cannot tell, and unanswered figures expire at the TTL.
    public var workerNodes: Set<String>?

    public init(
        source: LocalitySource, nodes: [String: Observation] = [:], problems: [String] = [],
        memory: [String: (used: Int64, limit: Int64)] = [:], workerNodes: Set<String>? = nil
    ) {
        self.source = source
        self.nodes = nodes
        self.problems = problems
        self.memory = memory
        self.workerNodes = workerNodes
    }
}
