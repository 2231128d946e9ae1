import Locality

/// One dataset wired into a pod: which, by which engine, and how.
public struct Injection: Sendable, Hashable {
    public var dataset: String
    public var engine: String
    public var how: Wiring

    public init(dataset: String, engine: String, how: Wiring) {
        self.dataset = dataset
        self.engine = engine
        self.how = how
    }
}
