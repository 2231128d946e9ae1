import JSON

/// The node names of an extender request, their UTF-8 bytes back to back. Read from the request
/// without a `String` per name: kube-scheduler sends thousands of names, and each name of more
/// than 15 bytes (`ip-10-32-2-10.ec2.internal`) would be an allocation of its own. A name
/// becomes a `String` only where one is asked for (`self[i]`).
public struct NodeNameList: Sendable, RandomAccessCollection, Equatable {
    let bytes: [UInt8]
    /// Name `i` is `bytes[starts[i]..<starts[i + 1]]`.
    let starts: [Int]

    public init(_ names: [String]) {
        var bytes: [UInt8] = []
        var starts = [0]
        starts.reserveCapacity(names.count + 1)
        for name in names {
            bytes.append(contentsOf: name.utf8)
            starts.append(bytes.count)
        }
        self.init(bytes: bytes, starts: starts)
    }

    init(bytes: [UInt8], starts: [Int]) {
        self.bytes = bytes
        self.starts = starts
    }

    /// Whether every name goes into JSON as it is, between quotes (no control character, quote or
    /// backslash): true of every real node name.
    public var needsNoEscaping: Bool { Self.needsNoEscaping(bytes) }

    /// Whether `bytes` go into a JSON string as they are.
    @inline(__always)
    static func needsNoEscaping(_ bytes: some Sequence<UInt8>) -> Bool {
        !bytes.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { starts.count - 1 }

    public subscript(i: Int) -> String { String(decoding: bytes[starts[i]..<starts[i + 1]], as: UTF8.self) }

    /// Calls `body` with name `i`'s bytes (valid only inside `body`).
    @inline(__always)
    public func withName<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { all in try body(UnsafeRawBufferPointer(rebasing: all[starts[i]..<starts[i + 1]])) }
    }

    /// Calls `body` with every name's bytes in turn, under one access to the storage.
    @inline(__always)
    public func forEachName(_ body: (Int, UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { all in
            for i in 0..<count { try body(i, UnsafeRawBufferPointer(rebasing: all[starts[i]..<starts[i + 1]])) }
        }
    }

    /// Builds the list from the byte ranges of the elements of a JSON array of strings in `raw`;
    /// nil (with the element's index) when an element is not a non-empty string.
    static func fromJSONStrings(_ ranges: [Range<Int>], in raw: UnsafeRawBufferPointer) -> Result<NodeNameList, NotANodeName> {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ranges.reduce(0) { $0 + $1.count })
        var starts = [0]
        starts.reserveCapacity(ranges.count + 1)
        for (i, r) in ranges.enumerated() {
            guard r.count >= 3, raw[r.lowerBound] == UInt8(ascii: "\""), raw[r.upperBound - 1] == UInt8(ascii: "\"") else {
                return .failure(NotANodeName(index: i))
            }
            let inner = UnsafeRawBufferPointer(rebasing: raw[(r.lowerBound + 1)..<(r.upperBound - 1)])
            if inner.contains(UInt8(ascii: "\\")) {
                // An escaped name (never seen in practice): decoded as JSON.
                guard let name = (try? JSONValue.parse(bytes: Array(raw[r])))?.stringValue, !name.isEmpty else {
                    return .failure(NotANodeName(index: i))
                }
                bytes.append(contentsOf: name.utf8)
            } else {
                bytes.append(contentsOf: inner)
            }
            starts.append(bytes.count)
        }
        return .success(NodeNameList(bytes: bytes, starts: starts))
    }
}

/// The element of a request's `NodeNames` that is not a non-empty string.
struct NotANodeName: Error {
    var index: Int
}
