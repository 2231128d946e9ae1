import Foundation

/// Which engine endpoints are not answering, across locality rounds, so that each one is said
/// once when it stops answering and once when it answers again, not at every round: a worker
/// behind a NetworkPolicy or a stuck one would otherwise fill the log.
///
/// An engine's problem reads `<endpoint>: <reason>` (`juicefs worker on node-a
/// (http://10.0.0.5:9567/metrics): timed out`); the endpoint is the part before the first `": "`,
/// so a reason that changes (refused, then timed out) is the same endpoint still not answering.
public struct UnansweredEndpoints: Sendable {
    /// What one round changed.
    public struct Change: Sendable {
        /// Endpoints that stopped answering this round, with the whole problem.
        public var stopped: [(dataset: DatasetRef, problem: String)] = []
        /// Endpoints that answer again (or are no longer asked).
        public var recovered: [(dataset: DatasetRef, endpoint: String)] = []
    }

    private var failing: [DatasetRef: Set<String>] = [:]

    public init() {}

    /// Endpoints not answering now, over every dataset.
    public var count: Int { failing.values.reduce(0) { $0 + $1.count } }

    /// The endpoint a problem is about.
    public static func endpoint(of problem: String) -> String {
        guard let r = problem.range(of: ": ") else { return problem }
        return String(problem[..<r.lowerBound])
    }

    /// Takes one round's problems per dataset asked (a dataset missing from `problems` was not
    /// asked or said nothing: its endpoints are no longer failing).
    public mutating func update(_ problems: [DatasetRef: [String]]) -> Change {
        var change = Change()
        for ref in problems.keys.sorted() {
            let now = problems[ref] ?? []
            let before = failing[ref] ?? []
            var current = Set<String>()
            for problem in now {
                let endpoint = Self.endpoint(of: problem)
                if !before.contains(endpoint) && !current.contains(endpoint) { change.stopped.append((ref, problem)) }
                current.insert(endpoint)
            }
            for endpoint in before.subtracting(current).sorted() { change.recovered.append((ref, endpoint)) }
            failing[ref] = current.isEmpty ? nil : current
        }
        for ref in failing.keys.filter({ problems[$0] == nil }).sorted() {
            for endpoint in failing[ref]!.sorted() { change.recovered.append((ref, endpoint)) }
            failing[ref] = nil
        }
        return change
    }
}
