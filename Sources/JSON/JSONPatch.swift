import Foundation

/// RFC 6902 patches as the difference of two JSON documents.
public enum JSONPatch {
    /// The operations that turn `old` into `new`. Objects are compared key by key; arrays keep
    /// their common head and tail and patch the middle, so inserting a container in front of the
    /// others is one `add`, not a rewrite of every container; where that would pair two elements
    /// named differently, named elements are matched by name (`diffByName`). Fields never touched
    /// are never named.
    public static func diff(from old: JSONValue, to new: JSONValue) -> [PatchOperation] {
        var ops: [PatchOperation] = []
        var path: [UInt8] = []
        path.reserveCapacity(128)
        diff(old, new, path: &path, into: &ops)
        return ops
    }

    /// `path` is the JSON pointer of `old` and `new`, as bytes: each level appends its token and
    /// takes it off again, so only the paths of operations become strings.
    static func diff(_ old: JSONValue, _ new: JSONValue, path: inout [UInt8], into ops: inout [PatchOperation]) {
        // Untouched subtrees share storage with the original, so `==` is cheap where nothing changed.
        if old == new { return }
        diffKnownDifferent(old, new, path: &path, into: &ops)
    }

    /// `old != new` is known here, so the (deep) comparison is not repeated at every level.
    static func diffKnownDifferent(_ old: JSONValue, _ new: JSONValue, path: inout [UInt8], into ops: inout [PatchOperation]) {
        switch (old, new) {
        case (.object(let a), .object(let b)):
            // Both are sorted by key: a merge walk finds the removed members, then another the added
            // and changed ones, each in key order (removals first, for a stable patch).
            var i = a.startIndex
            var j = b.startIndex
            while i < a.endIndex {
                if j == b.endIndex || a[i].key < b[j].key {
                    ops.append(PatchOperation(op: .remove, path: string(&path, child: a[i].key)))
                    i += 1
                } else if a[i].key == b[j].key {
                    i += 1
                    j += 1
                } else {
                    j += 1
                }
            }
            i = a.startIndex
            j = b.startIndex
            while j < b.endIndex {
                if i < a.endIndex, a[i].key < b[j].key {
                    i += 1
                } else if i < a.endIndex, a[i].key == b[j].key {
                    if a[i].value != b[j].value {
                        let mark = path.count
                        appendToken(b[j].key, to: &path)
                        diffKnownDifferent(a[i].value, b[j].value, path: &path, into: &ops)
                        path.removeLast(path.count - mark)
                    }
                    i += 1
                    j += 1
                } else {
                    ops.append(PatchOperation(op: .add, path: string(&path, child: b[j].key), value: b[j].value))
                    j += 1
                }
            }
        case (.array(let a), .array(let b)):
            var head = 0
            while head < a.count, head < b.count, a[head] == b[head] { head += 1 }
            var tail = 0
            while tail < a.count - head, tail < b.count - head, a[a.count - 1 - tail] == b[b.count - 1 - tail] { tail += 1 }
            let oldMiddle = a.count - head - tail
            let newMiddle = b.count - head - tail
            let common = min(oldMiddle, newMiddle)
            if (0..<common).contains(where: { namesDiffer(a[head + $0], b[head + $0]) }),
                diffByName(a, b, path: &path, into: &ops)
            {
                return
            }
            let mark = path.count
            for i in 0..<common {
                appendIndex(head + i, to: &path)
                diff(a[head + i], b[head + i], path: &path, into: &ops)
                path.removeLast(path.count - mark)
            }
            if oldMiddle > newMiddle {
                // Remove from the highest index down so earlier indexes stay valid.
                for i in stride(from: head + oldMiddle - 1, through: head + common, by: -1) {
                    appendIndex(i, to: &path)
                    ops.append(PatchOperation(op: .remove, path: String(decoding: path, as: UTF8.self)))
                    path.removeLast(path.count - mark)
                }
            } else {
                for i in common..<newMiddle {
                    appendIndex(head + i, to: &path)
                    ops.append(PatchOperation(op: .add, path: String(decoding: path, as: UTF8.self), value: b[head + i]))
                    path.removeLast(path.count - mark)
                }
            }
        default:
            ops.append(PatchOperation(op: .replace, path: String(decoding: path, as: UTF8.self), value: new))
        }
    }

    /// Whether `a` and `b` are objects named differently (`name` members, both strings).
    static func namesDiffer(_ a: JSONValue, _ b: JSONValue) -> Bool {
        guard let x = a["name"]?.stringValue, let y = b["name"]?.stringValue else { return false }
        return x != y
    }

    /// Arrays of named objects (containers, volumes, mounts), each name once, where the names both
    /// keep are in the same order: each kept element changed where it is, then the elements gone
    /// removed and the new ones added where they belong, so an element put in front of others that
    /// change too is one `add` and the others' own changes (pairing them by place would rewrite each
    /// into the one before it). False, with nothing written, for any other arrays.
    static func diffByName(_ a: [JSONValue], _ b: [JSONValue], path: inout [UInt8], into ops: inout [PatchOperation]) -> Bool {
        /// Each element's name, and where each name is; nil unless every element has one, once.
        func names(_ list: [JSONValue]) -> (names: [String], places: [String: Int])? {
            var names: [String] = []
            var places: [String: Int] = [:]
            names.reserveCapacity(list.count)
            places.reserveCapacity(list.count)
            for (i, v) in list.enumerated() {
                guard let name = v["name"]?.stringValue, places.updateValue(i, forKey: name) == nil else { return nil }
                names.append(name)
            }
            return (names, places)
        }
        guard let old = names(a), let new = names(b) else { return false }
        // Where each kept element goes: increasing, or the order changed.
        var kept: [(from: Int, to: Int)] = []
        for (i, name) in old.names.enumerated() {
            guard let j = new.places[name] else { continue }
            if let last = kept.last, last.to > j { return false }
            kept.append((i, j))
        }
        let mark = path.count
        for (i, j) in kept where a[i] != b[j] {
            appendIndex(i, to: &path)
            diffKnownDifferent(a[i], b[j], path: &path, into: &ops)
            path.removeLast(path.count - mark)
        }
        for i in a.indices.reversed() where new.places[old.names[i]] == nil {
            appendIndex(i, to: &path)
            ops.append(PatchOperation(op: .remove, path: String(decoding: path, as: UTF8.self)))
            path.removeLast(path.count - mark)
        }
        for j in b.indices where old.places[new.names[j]] == nil {
            appendIndex(j, to: &path)
            ops.append(PatchOperation(op: .add, path: String(decoding: path, as: UTF8.self), value: b[j]))
            path.removeLast(path.count - mark)
        }
        return true
    }

    /// `path` followed by the reference token for `key`, as a string (`path` is left as it was).
    static func string(_ path: inout [UInt8], child key: String) -> String {
        let mark = path.count
        appendToken(key, to: &path)
        defer { path.removeLast(path.count - mark) }
        return String(decoding: path, as: UTF8.self)
    }

    /// Appends `/` and `key` as an RFC 6901 reference token.
    static func appendToken(_ key: String, to path: inout [UInt8]) {
        path.append(UInt8(ascii: "/"))
        appendEscaped(key, to: &path)
    }

    /// Appends `token` with RFC 6901's escapes: `~` as `~0`, `/` as `~1`.
    static func appendEscaped(_ token: String, to out: inout [UInt8]) {
        var token = token
        token.withUTF8 { bytes in
            for b in bytes {
                switch b {
                case UInt8(ascii: "~"): out += [UInt8(ascii: "~"), UInt8(ascii: "0")]
                case UInt8(ascii: "/"): out += [UInt8(ascii: "~"), UInt8(ascii: "1")]
                default: out.append(b)
                }
            }
        }
    }

    /// Appends `/` and the decimal `index`.
    static func appendIndex(_ index: Int, to path: inout [UInt8]) {
        path.append(UInt8(ascii: "/"))
        let start = path.count
        var n = index
        repeat {
            path.append(UInt8(ascii: "0") + UInt8(n % 10))
            n /= 10
        } while n > 0
        path[start...].reverse()
    }

    /// RFC 6901 escaping of one reference token.
    public static func escape(_ token: String) -> String {
        func special(_ b: UInt8) -> Bool { b == UInt8(ascii: "~") || b == UInt8(ascii: "/") }
        // Scanning the bytes in place is cheaper than iterating the UTF-8 view.
        let plain = token.utf8.withContiguousStorageIfAvailable { !$0.contains(where: special) } ?? !token.utf8.contains(where: special)
        guard !plain else { return token }
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count + 4)
        appendEscaped(token, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func unescape(_ token: Substring) -> String {
        token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
    }

    /// The patch as a JSON array.
    public static func json(_ ops: [PatchOperation]) -> JSONValue { .array(ops.map(\.json)) }

    /// The patch as JSON bytes, keys in RFC order (`op`, `path`, `value`), written directly.
    public static func encoded(_ ops: [PatchOperation]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(256 * ops.count + 2)
        for (i, op) in ops.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"op":""#.utf8)
            out.append(contentsOf: op.op.rawValue.utf8)
            out.append(contentsOf: #"","path":"#.utf8)
            JSONValue.string(op.path).write(into: &out)
            if let value = op.value {
                out.append(contentsOf: #","value":"#.utf8)
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// Applies `ops` to `document` (add, remove, replace), as the API server would.
    public static func apply(_ ops: [PatchOperation], to document: JSONValue) throws -> JSONValue {
        var doc = document
        for op in ops {
            let tokens = op.path.isEmpty ? [] : op.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(unescape)
            if op.path != "" && !op.path.hasPrefix("/") { throw PatchError(description: "path \(op.path) does not start with /") }
            try apply(op, tokens: tokens[...], to: &doc)
        }
        return doc
    }

    static func apply(_ op: PatchOperation, tokens: ArraySlice<String>, to doc: inout JSONValue) throws {
        guard let token = tokens.first else {
            switch op.op {
            case .add, .replace: doc = op.value ?? .null
            case .remove: throw PatchError(description: "cannot remove the whole document")
            }
            return
        }
        let rest = tokens.dropFirst()
        switch doc {
        case .object(var o):
            if rest.isEmpty {
                switch op.op {
                case .add: o[token] = op.value ?? .null
                case .replace:
                    guard o[token] != nil else { throw PatchError(description: "replace \(op.path): no such member") }
                    o[token] = op.value ?? .null
                case .remove:
                    guard o.removeValue(forKey: token) != nil else { throw PatchError(description: "remove \(op.path): no such member") }
                }
            } else {
                guard var child = o[token] else { throw PatchError(description: "\(op.path): no member \(token)") }
                o[token] = nil  // keep the child uniquely referenced while it changes
                try apply(op, tokens: rest, to: &child)
                o[token] = child
            }
            doc = .object(o)
        case .array(var a):
            let index: Int
            if token == "-", op.op == .add, rest.isEmpty {
                index = a.count
            } else {
                guard let i = Int(token), i >= 0, String(i) == token else {
                    throw PatchError(description: "\(op.path): \(token) is not an array index")
                }
                index = i
            }
            if rest.isEmpty {
                switch op.op {
                case .add:
                    guard index <= a.count else { throw PatchError(description: "add \(op.path): index out of range") }
                    a.insert(op.value ?? .null, at: index)
                case .replace:
                    guard index < a.count else { throw PatchError(description: "replace \(op.path): index out of range") }
                    a[index] = op.value ?? .null
                case .remove:
                    guard index < a.count else { throw PatchError(description: "remove \(op.path): index out of range") }
                    a.remove(at: index)
                }
            } else {
                guard index < a.count else { throw PatchError(description: "\(op.path): index out of range") }
                var child = a[index]
                a[index] = .null
                try apply(op, tokens: rest, to: &child)
                a[index] = child
            }
            doc = .array(a)
        default:
            throw PatchError(description: "\(op.path): \(token) is inside a value that is neither an object nor an array")
        }
    }
}
