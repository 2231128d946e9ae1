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

    /// The same with several lazy arrays: `elements[i]` are those of the array at `lazyPaths[i]`.
    public static func parse(
        bytes: UnsafeRawBufferPointer, lazyArraysAt lazyPaths: [[String]], keep: Set<String>
    ) throws -> (value: JSONValue, elements: [[LazyElement]]) {
        try JSONReader.parse(bytes, lazyPaths: lazyPaths, keep: keep)
    }
}

/// Which parts of a JSON document to build: `.all` of a value, or of an object only the named
/// members (each with its own selection); members not named are checked and skipped, unbuilt.
/// `.allExcept` builds every member of an object but reads those it names with their own
/// selection; `.elements` reads each element of an array with one selection; `.skip` checks a
/// member's value and leaves it out. `.located` builds all of a value and, when it is a string,
/// tells where its bytes are; `.locatedUnbuilt` checks a member's value, leaves it out and tells
/// where its bytes are; `.spanned` reads a value with its own selection and tells where the whole
/// value is (see `parseLocating`). A selection for an object or an array given another
/// kind of value builds that value whole.
public indirect enum JSONSelection: Sendable {
    case all
    case members(JSONSelectionMembers)
    case allExcept(JSONSelectionMembers)
    case elements(JSONSelection)
    case skip
    case located
    case locatedUnbuilt
    case spanned(JSONSelection)

    /// Whether a member read with this selection is left out of its object.
    var leavesOut: Bool {
        switch self {
        case .skip, .locatedUnbuilt: true
        case .spanned(let inner): inner.leavesOut
        default: false
        }
    }
}

/// The members an object selection names, written as a dictionary literal. The reader finds a
/// key among them by comparing its bytes, so a key that is not named is neither hashed nor made
/// into a `String`; a named one reuses the `String` kept here.
///
/// A selection is usually one constant read by every request on every thread at once, so the
/// keys' bytes are compared where `KeyBytes` keeps them, through plain pointers: looking a key
/// up touches no reference count (a count shared by two cores is written by both, and each
/// write takes the cache line from the other). Those bytes are written once, by `init`, and only
/// read after: sharing them between threads is safe (hence `@unchecked Sendable`).
public struct JSONSelectionMembers: @unchecked Sendable, ExpressibleByDictionaryLiteral {
    struct Entry: Sendable {
        let key: String
        let selection: JSONSelection
    }

    /// Every key's bytes one after another, and where each begins (one more: the end).
    final class KeyBytes: @unchecked Sendable {
        let bytes: UnsafeMutableBufferPointer<UInt8>
        let starts: UnsafeMutableBufferPointer<Int>

        init(_ keys: [String]) {
            let all = keys.flatMap(\.utf8)
            bytes = .allocate(capacity: max(1, all.count))
            _ = bytes.initialize(from: all)
            starts = .allocate(capacity: keys.count + 1)
            var at = 0
            for (i, key) in keys.enumerated() {
                starts[i] = at
                at += key.utf8.count
            }
            starts[keys.count] = at
        }

        deinit {
            bytes.deallocate()
            starts.deallocate()
        }
    }

    let entries: [Entry]
    /// Keeps the memory `keyBase` and `keyStarts` point into.
    private let keyBytes: KeyBytes
    private let keyBase: UnsafePointer<UInt8>
    private let keyStarts: UnsafePointer<Int>

    /// A key named twice keeps its last selection.
    public init(dictionaryLiteral elements: (String, JSONSelection)...) { self.init(elements) }

    /// A key named twice keeps its last selection.
    public init(_ elements: [(String, JSONSelection)]) {
        var entries: [Entry] = []
        for (key, selection) in elements {
            entries.removeAll { $0.key == key }
            entries.append(Entry(key: key, selection: selection))
        }
        self.entries = entries
        keyBytes = KeyBytes(entries.map(\.key))
        keyBase = UnsafePointer(keyBytes.bytes.baseAddress!)
        keyStarts = UnsafePointer(keyBytes.starts.baseAddress!)
    }

    /// The index of the entry whose key is exactly these (unescaped) bytes.
    func index(forKeyBytes bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        for i in 0..<entries.count where keyStarts[i + 1] - keyStarts[i] == bytes.count {
            if bytes.isEmpty || memcmp(keyBase + keyStarts[i], bytes.baseAddress!, bytes.count) == 0 { return i }
        }
        return nil
    }

    /// The index of the entry named `key`.
    func index(forKey key: String) -> Int? { entries.firstIndex { $0.key == key } }
}

extension JSONValue {
    /// Whether `bytes` are exactly one JSON value: what `parse(bytes:)` accepts, nothing built.
    public static func isWellFormed(bytes: UnsafeRawBufferPointer) -> Bool { JSONReader.isWellFormed(bytes) }

    /// Parses JSON, building only what `selection` names (every byte is still checked to be JSON).
    public static func parse(bytes: UnsafeRawBufferPointer, selecting selection: JSONSelection) throws -> JSONValue {
        try JSONReader.parse(bytes, selecting: selection).value
    }

    /// `parse(bytes:selecting:)`, and where the string the `.located` selection found sits in
    /// `bytes`: the range of its raw bytes between the quotes, escapes unread. Of duplicate keys the
    /// value kept is the last, and so is the range; nil when that value is not a string. `unbuilt`
    /// is the whole value the `.locatedUnbuilt` selection found last (nil: none), `spanned` the
    /// whole value the `.spanned` selection read last (nil: none).
    public static func parseLocating(
        bytes: UnsafeRawBufferPointer, selecting selection: JSONSelection
    ) throws -> (value: JSONValue, located: Range<Int>?, unbuilt: Range<Int>?, spanned: Range<Int>?) {
        try JSONReader.parse(bytes, selecting: selection)
    }
}
