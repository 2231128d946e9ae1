import Foundation
import JSON
import Locality

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

    /// The answer when every one of `names` passes (names-only mode), written from the names'
    /// bytes without a `String` per name; nil when a name would need escaping.
    public static func allPassing(_ names: NodeNameList) -> [UInt8]? {
        guard names.needsNoEscaping else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(names.bytes.count + 3 * names.count + 96)
        out.append(contentsOf: #"{"Error":"","FailedAndUnresolvableNodes":{},"FailedNodes":{},"NodeNames":["#.utf8)
        names.forEachName { i, name in
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: name)
            out.append(UInt8(ascii: "\""))
        }
        out.append(contentsOf: #"],"Nodes":null}"#.utf8)
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
