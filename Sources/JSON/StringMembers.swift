/// The string members of a JSON object, read as a `[String: String]` reads (a member whose value
/// is not a string is absent): a pod's labels and annotations, looked up a few keys at a time
/// where they already are, in the pod's sorted members, without hashing each key into a
/// dictionary first.
public struct StringMembers: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public let object: JSONObject

    /// The string members of `value` when it is an object; none otherwise.
    public init(_ value: JSONValue?) { self.object = value?.objectValue ?? [:] }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.object = JSONObject(elements.map { ($0.0, JSONValue.string($0.1)) })
    }

    @inlinable public subscript(key: String) -> String? { object[key]?.stringValue }
}
