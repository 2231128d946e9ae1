import Foundation

/// One RFC 6902 operation. Locus only emits `add`, `remove` and `replace`.
public struct PatchOperation: Sendable, Hashable {
    public enum Op: String, Sendable { case add, remove, replace }
    public var op: Op
    /// An RFC 6901 JSON pointer.
    public var path: String
    public var value: JSONValue?

    public init(op: Op, path: String, value: JSONValue? = nil) {
        self.op = op
        self.path = path
        self.value = value
    }

    public var json: JSONValue {
        var o: JSONObject = ["op": .string(op.rawValue), "path": .string(path)]
        if let value { o["value"] = value }
        return .object(o)
    }
}
