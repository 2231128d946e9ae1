import Foundation

/// One element of an array read lazily: where its bytes are, and the members asked for.
public struct LazyElement: Sendable {
    public let range: Range<Int>
    public let kept: JSONObject
}

extension JSONValue {
    /// Parses JSON but leaves the array at `lazyPath` unbuilt: see `JSONReader.parse(_:lazyPath:keep:)`.
    public static func parse(
        bytes: UnsafeRawBufferPointer, lazyArrayAt lazyPath: [String], keep: Set<String>
    ) throws -> (value: JSONValue, elements: [LazyElement]) {
        try JSONReader.parse(bytes, lazyPath: lazyPath, keep: keep)
    }
}

/// Which parts of a JSON document to build: `.all` of a value, or of an object only the named
/// members (each with its own selection); members not named are checked and skipped, unbuilt.
public indirect enum JSONSelection: Sendable {
    case all
    case members([String: JSONSelection])
}

extension JSONValue {
    /// Parses JSON, building only what `selection` names (every byte is still checked to be JSON).
    public static func parse(bytes: UnsafeRawBufferPointer, selecting selection: JSONSelection) throws -> JSONValue {
        try JSONReader.parse(bytes, selecting: selection)
    }
}
