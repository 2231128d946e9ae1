import Foundation
import JSON
import Locality

/// A request kube-scheduler sent that cannot be read; the reason goes back in `Error`.
public struct ExtenderRequestError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// Go's encoding/json matches field names case-insensitively; kube-scheduler writes them in
/// PascalCase (`Pod`, `Nodes`, `NodeNames`) because its types carry no json tags.
func field(_ object: JSONObject, _ name: String) -> JSONValue? {
    if let v = object[name] { return v }
    // Keys that differ only in case: the order they came in is gone, so take one by a fixed rule
    // (the greatest) rather than whichever the dictionary yields first in this process.
    let lower = name.lowercased()
    return object.keys.filter { $0.lowercased() == lower }.max().flatMap { object[$0] }
}

/// `ExtenderArgs` (k8s.io/kube-scheduler/extender/v1): the pod and the candidate nodes, by name
/// (`nodeCacheCapable: true`) or as a full `NodeList`.
public struct ExtenderArgs: Sendable {
    public var pod: JSONValue
    /// Candidate node names as sent. A name sent twice is answered twice: the filter's answer
    /// stays a subset of the input and repeated scores are the same, so nothing is gained by
    /// hashing every name to drop duplicates.
    public var nodeNames: [String]
    /// Present in full-NodeList mode: each candidate's labels.
    public var nodeLabels: [String: [String: String]]?
    /// Full-NodeList mode: where each node's object is in `raw`, to answer with its own bytes.
    var nodeRanges: [String: Range<Int>]?
    var raw: [UInt8] = []
    public var nodeListKind: (apiVersion: String?, kind: String?)?

    public var fullNodes: Bool { nodeRanges != nil }

    /// Reads ExtenderArgs, keeping a copy of the bytes for `FilterResult.encoded(for:)`.
    public static func parse<Bytes: ContiguousBytes>(_ body: Bytes) throws -> ExtenderArgs {
        let raw: [UInt8] = body.withUnsafeBytes { Array($0) }
        var args = try raw.withUnsafeBytes { try parse(borrowing: $0) }
        args.raw = raw
        return args
    }

    /// Reads ExtenderArgs without copying the body. A full NodeList's Node objects are checked to
    /// be JSON but not built: only each node's metadata is read, and the passing nodes are answered
    /// with their own bytes (`FilterResult.write(for:raw:into:)` with the same `raw`).
    public static func parse(borrowing raw: UnsafeRawBufferPointer) throws -> ExtenderArgs {
        let json: JSONValue
        let elements: [LazyElement]
        do {
            (json, elements) = try JSONValue.parse(bytes: raw, lazyArrayAt: ["Nodes", "items"], keep: ["metadata"])
        } catch {
            throw ExtenderRequestError(description: "body is not ExtenderArgs: \(error)")
        }
        guard let top = json.objectValue else { throw ExtenderRequestError(description: "ExtenderArgs must be a JSON object") }
        guard let pod = field(top, "Pod"), pod.objectValue != nil else {
            throw ExtenderRequestError(description: "ExtenderArgs.Pod is missing")
        }
        var names: [String] = []
        if let list = field(top, "Nodes"), !list.isNull {
            guard let listObject = list.objectValue, field(listObject, "items").map({ $0.arrayValue != nil || $0.isNull }) ?? true else {
                throw ExtenderRequestError(description: "ExtenderArgs.Nodes must be a NodeList")
            }
            var labels: [String: [String: String]] = [:]
            var ranges: [String: Range<Int>] = [:]
            names.reserveCapacity(elements.count)
            for (i, item) in elements.enumerated() {
                guard let name = item.kept["metadata"]?["name"]?.stringValue, !name.isEmpty else {
                    throw ExtenderRequestError(description: "ExtenderArgs.Nodes.items[\(i)] has no metadata.name")
                }
                names.append(name)
                labels[name] = item.kept["metadata"]?["labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
                if ranges[name] == nil { ranges[name] = item.range }
            }
            return ExtenderArgs(
                pod: pod, nodeNames: names, nodeLabels: labels, nodeRanges: ranges,
                nodeListKind: (list["apiVersion"]?.stringValue, list["kind"]?.stringValue))
        }
        guard let list = field(top, "NodeNames"), !list.isNull else {
            throw ExtenderRequestError(description: "ExtenderArgs has neither Nodes nor NodeNames")
        }
        guard let array = list.arrayValue else { throw ExtenderRequestError(description: "ExtenderArgs.NodeNames must be a list of names") }
        names.reserveCapacity(array.count)
        for (i, v) in array.enumerated() {
            guard let name = v.stringValue, !name.isEmpty else {
                throw ExtenderRequestError(description: "ExtenderArgs.NodeNames[\(i)] is not a node name")
            }
            names.append(name)
        }
        return ExtenderArgs(pod: pod, nodeNames: names, nodeLabels: nil, nodeRanges: nil, nodeListKind: nil)
    }
}

/// `ExtenderFilterResult`: the nodes that pass, in the form they came in, and why the others failed.
public struct FilterResult: Sendable, Equatable {
    public var passed: [String]
    /// Nodes that fail now but might pass after preemption.
    public var failed: [String: String]
    /// Nodes no preemption can help.
    public var unresolvable: [String: String]
    public var error: String

    public init(passed: [String], failed: [String: String] = [:], unresolvable: [String: String] = [:], error: String = "") {
        self.passed = passed
        self.failed = failed
        self.unresolvable = unresolvable
        self.error = error
    }

    /// JSON as kube-scheduler reads it: `NodeNames` when it sent names, `Nodes` (the passing Node
    /// objects, byte for byte as received) when it sent a NodeList.
    public func encoded(for args: ExtenderArgs?) -> [UInt8] {
        var out: [UInt8] = []
        args?.raw.withUnsafeBytes { raw in write(for: args, raw: raw) { out.append(contentsOf: $0) } }
        if args == nil { write(for: nil, raw: UnsafeRawBufferPointer(start: nil, count: 0)) { out.append(contentsOf: $0) } }
        return out
    }

    /// One piece of an encoded result: bytes of its own, or a range of the request body.
    public enum Piece: Sendable, Equatable {
        case bytes([UInt8])
        case request(Range<Int>)
    }

    /// The result as pieces; in NodeList mode the passing nodes are ranges of `raw`, the body the
    /// arguments were parsed from, and nodes that pass one after another in the request are one
    /// range (what lies between them there is a comma and whitespace), so a server can answer
    /// with slices of the request instead of copying megabytes.
    public func pieces(for args: ExtenderArgs?, raw: UnsafeRawBufferPointer) -> [Piece] {
        var o: JSONObject = [
            "FailedNodes": .object(JSONObject(failed.mapValues { JSONValue.string($0) })),
            "FailedAndUnresolvableNodes": .object(JSONObject(unresolvable.mapValues { JSONValue.string($0) })),
            "Error": .string(error),
            "NodeNames": .null,
        ]
        guard let args, let ranges = args.nodeRanges else {
            if args != nil { o["NodeNames"] = .array(passed.map { .string($0) }) }
            o["Nodes"] = .null
            return [.bytes(JSONValue.object(o).encodedBytes())]
        }
        // Everything but Nodes, then Nodes with the request's own bytes for each passing node.
        var head = JSONValue.object(o).encodedBytes()
        head.removeLast()  // the closing brace
        head.append(contentsOf: #","Nodes":{"apiVersion":"#.utf8)
        JSONValue.string(args.nodeListKind?.apiVersion ?? "v1").write(into: &head)
        head.append(contentsOf: #","kind":"#.utf8)
        JSONValue.string(args.nodeListKind?.kind ?? "NodeList").write(into: &head)
        head.append(contentsOf: #","metadata":{},"items":["#.utf8)
        var pieces: [Piece] = [.bytes(head)]
        var run: Range<Int>?
        func close() {
            guard let r = run else { return }
            if pieces.count > 1 { pieces.append(.bytes([UInt8(ascii: ",")])) }
            pieces.append(.request(r))
            run = nil
        }
        for name in passed {
            guard let r = ranges[name], r.upperBound <= raw.count else { continue }
            if let current = run, current.upperBound <= r.lowerBound, Self.onlyOneComma(raw[current.upperBound..<r.lowerBound]) {
                run = current.lowerBound..<r.upperBound
            } else {
                close()
                run = r
            }
        }
        close()
        pieces.append(.bytes(Array("]}}".utf8)))
        return pieces
    }

    /// Whether `gap` is one comma with only JSON whitespace around it: two array elements in a row.
    static func onlyOneComma(_ gap: Slice<UnsafeRawBufferPointer>) -> Bool {
        var commas = 0
        for b in gap {
            switch b {
            case UInt8(ascii: ","): commas += 1
            case 0x20, 0x0A, 0x0D, 0x09: continue
            default: return false
            }
        }
        return commas == 1
    }

    /// Writes the result in pieces to `sink` (see `pieces(for:raw:)`).
    public func write(for args: ExtenderArgs?, raw: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) -> Void) {
        for piece in pieces(for: args, raw: raw) {
            switch piece {
            case .bytes(let b): b.withUnsafeBytes(sink)
            case .request(let r): sink(UnsafeRawBufferPointer(rebasing: raw[r]))
            }
        }
    }
}

/// `HostPriorityList`: `[{"Host": name, "Score": 0…10}]`.
public func encodeHostPriorities(_ scores: [(host: String, score: Int)]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(32 * scores.count + 2)
    writeHostPriorities(count: scores.count, host: { scores[$0].host }, score: { scores[$0].score }, into: &out)
    return out
}

/// The `HostPriorityList` of `count` entries straight into `out`: node names that need no JSON
/// escaping (all real ones) are copied byte for byte.
@inline(__always)
public func writeHostPriorities(count: Int, host: (Int) -> String, score: (Int) -> Int, into out: inout [UInt8]) {
    // The usual answer (plain node names, one-digit scores) is sized first and then copied in
    // with no per-entry growth checks: thousands of entries are most of /prioritize's output.
    var size = 2 + max(0, count - 1)
    var plainNames = true
    for i in 0..<count where plainNames {
        var name = host(i)
        let length = name.withUTF8 { bytes -> Int in
            for b in bytes where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return -1 }
            return bytes.count
        }
        plainNames = length >= 0 && (0...9).contains(score(i))
        size += 21 + length  // {"Host":"NAME","Score":D}
    }
    if plainNames {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: size))
        out.withUnsafeMutableBufferPointer { buffer in
            var p = buffer.baseAddress! + start
            @inline(__always) func put(_ s: StaticString) {
                UnsafeMutableRawPointer(p).copyMemory(from: s.utf8Start, byteCount: s.utf8CodeUnitCount)
                p += s.utf8CodeUnitCount
            }
            p.pointee = UInt8(ascii: "[")
            p += 1
            for i in 0..<count {
                if i > 0 {
                    p.pointee = UInt8(ascii: ",")
                    p += 1
                }
                put(#"{"Host":""#)
                var name = host(i)
                name.withUTF8 { bytes in
                    if let from = bytes.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: from, byteCount: bytes.count) }
                    p += bytes.count
                }
                put(#"","Score":"#)
                p.pointee = UInt8(ascii: "0") + UInt8(score(i))
                p[1] = UInt8(ascii: "}")
                p += 2
            }
            precondition(p == buffer.baseAddress! + start + size - 1, "HostPriorityList sized wrongly")
            p.pointee = UInt8(ascii: "]")
        }
        return
    }
    @inline(__always) func put(_ s: StaticString, _ out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
    out.append(UInt8(ascii: "["))
    for i in 0..<count {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        put(#"{"Host":"#, &out)
        var name = host(i)
        let plain = name.withUTF8 { bytes -> Bool in
            for b in bytes where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return false }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: bytes)
            out.append(UInt8(ascii: "\""))
            return true
        }
        if !plain { JSONValue.string(name).write(into: &out) }
        put(#","Score":"#, &out)
        let s = score(i)
        if (0...9).contains(s) { out.append(UInt8(ascii: "0") + UInt8(s)) } else { out.append(contentsOf: String(s).utf8) }
        out.append(UInt8(ascii: "}"))
    }
    out.append(UInt8(ascii: "]"))
}
