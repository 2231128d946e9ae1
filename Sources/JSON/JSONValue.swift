public import Foundation

/// A lossless JSON value. Pods are kept in this form alongside their typed model so that
/// fields Locus does not model are never dropped when a pod is mutated and re-encoded.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    @inlinable public subscript(key: String) -> JSONValue? {
        get {
            if case .object(let o) = self { return o[key] }
            return nil
        }
        set {
            guard case .object(var o) = self else { return }
            o[key] = newValue
            self = .object(o)
        }
    }

    @inlinable public subscript(index: Int) -> JSONValue? {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return nil
    }

    @inlinable public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    @inlinable public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
    @inlinable public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
    @inlinable public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }
    public var int64Value: Int64? {
        switch self {
        case .integer(let i): return i
        case .number(let d) where d.rounded() == d && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }
    @inlinable public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Decodes JSON bytes into a value; numbers without fraction or exponent stay integers.
    /// A byte-level reader (see `JSONReader`): several times faster than `JSONDecoder` on pods.
    public static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { try JSONReader.parse($0) }
    }

    public static func parse<Bytes: ContiguousBytes>(bytes: Bytes) throws -> JSONValue {
        try bytes.withUnsafeBytes { try JSONReader.parse($0) }
    }

    /// Compact JSON with keys sorted, so equal values always encode to equal bytes.
    public func encoded() throws -> Data {
        Data(encodedBytes())
    }

    /// Compact JSON with keys sorted, as bytes.
    public func encodedBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        JSONWriter.write(self, into: &out)
        return out
    }

    /// Appends the compact JSON (keys sorted) to `out`.
    public func write(into out: inout [UInt8]) { JSONWriter.write(self, into: &out) }

    /// Compact JSON with keys sorted, as a string.
    public var jsonString: String { String(decoding: encodedBytes(), as: UTF8.self) }

    /// Re-decodes this value as a typed model.
    public func decode<T: Decodable>(as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: try encoded())
    }
}
