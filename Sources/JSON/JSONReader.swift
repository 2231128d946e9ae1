import Foundation

/// A strict RFC 8259 reader straight from bytes into `JSONValue`.
///
/// Hostile input is bounded: nesting deeper than `maxDepth` is an error rather than a stack
/// overflow, and every error names the byte offset. Duplicate object keys keep the last value,
/// as Go's encoding/json (the API server) does.
enum JSONReader {
    static let maxDepth = 256

    static func parse(_ buffer: UnsafeRawBufferPointer) throws -> JSONValue {
        var r = Cursor(bytes: buffer.bindMemory(to: UInt8.self))
        r.skipSpace()
        let v = try r.value(depth: 0)
        r.skipSpace()
        guard r.pos == r.bytes.count else { throw r.error("unexpected data after the JSON value") }
        return v
    }

    /// Whether `buffer` is exactly one JSON value, checked as `parse` checks it but not built.
    static func isWellFormed(_ buffer: UnsafeRawBufferPointer) -> Bool {
        var r = Cursor(bytes: buffer.bindMemory(to: UInt8.self))
        r.skipSpace()
        guard (try? r.skip(depth: 0)) != nil else { return false }
        r.skipSpace()
        return r.pos == r.bytes.count
    }

    /// Parses what `selection` names; `located` is where the last value read for a `.located`
    /// selection has its raw string bytes (nil when that value is not a string), `unbuilt` where
    /// the last value skipped for a `.locatedUnbuilt` one is, `spanned` where the last value read
    /// for a `.spanned` one is.
    static func parse(
        _ buffer: UnsafeRawBufferPointer, selecting selection: JSONSelection
    ) throws -> (value: JSONValue, located: Range<Int>?, unbuilt: Range<Int>?, spanned: Range<Int>?) {
        var r = Cursor(bytes: buffer.bindMemory(to: UInt8.self))
        r.skipSpace()
        let v = try r.selected(selection, depth: 0)
        r.skipSpace()
        guard r.pos == r.bytes.count else { throw r.error("unexpected data after the JSON value") }
        return (v, r.located, r.unbuilt, r.spanned)
    }

    /// Parses `buffer`, except the array found by following `lazyPath` (object keys, matched
    /// case-insensitively as Go does): its elements are not built. For each element it returns the
    /// element's byte range and, when the element is an object, its members named in `keep`; the
    /// array itself reads as empty in the returned value. Every byte is still checked to be JSON.
    static func parse(
        _ buffer: UnsafeRawBufferPointer, lazyPath: [String], keep: Set<String>
    ) throws -> (value: JSONValue, elements: [LazyElement]) {
        let (value, elements) = try parse(buffer, lazyPaths: [lazyPath], keep: keep)
        return (value, elements[0])
    }

    /// The same with several lazy arrays: `elements[i]` are those of the array at `lazyPaths[i]`.
    static func parse(
        _ buffer: UnsafeRawBufferPointer, lazyPaths: [[String]], keep: Set<String>
    ) throws -> (value: JSONValue, elements: [[LazyElement]]) {
        var r = Cursor(bytes: buffer.bindMemory(to: UInt8.self))
        var elements = [[LazyElement]](repeating: [], count: lazyPaths.count)
        r.skipSpace()
        let paths = lazyPaths.enumerated().map { (index: $0.offset, rest: $0.element.map { $0.lowercased() }[...]) }
        let v = try r.lazyValue(paths: paths, keep: keep, elements: &elements, depth: 0)
        r.skipSpace()
        guard r.pos == r.bytes.count else { throw r.error("unexpected data after the JSON value") }
        return (v, elements)
    }

    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var pos = 0
        /// Where the last value read for a `.located` selection has its string's raw bytes.
        var located: Range<Int>?
        /// Where the last value skipped for a `.locatedUnbuilt` selection is.
        var unbuilt: Range<Int>?
        /// Where the last value read for a `.spanned` selection is.
        var spanned: Range<Int>?

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        func error(_ reason: String) -> JSONParseError { JSONParseError(offset: pos, reason: reason) }

        /// Reads an object from its `{`: for each member, `member` is called with the key and the
        /// cursor at the member's value, which it must read or skip. `depth` is the object's own.
        @inline(__always)
        mutating func eachMember(depth: Int, _ member: (inout Cursor, String) throws -> Void) throws {
            try eachMember(depth: depth, key: { try $0.string() }, member)
        }

        /// `eachMember`, with each key read by `readKey` from its opening quote (which must leave
        /// the cursor after the closing quote) into what `member` is given.
        @inline(__always)
        mutating func eachMember<Key>(
            depth: Int, key readKey: (inout Cursor) throws -> Key, _ member: (inout Cursor, Key) throws -> Void
        ) throws {
            guard depth <= JSONReader.maxDepth else { throw error("nested deeper than \(JSONReader.maxDepth) levels") }
            pos += 1
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                return
            }
            while true {
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw error("expected an object key") }
                let key = try readKey(&self)
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':'") }
                pos += 1
                skipSpace()
                try member(&self, key)
                if try nextMember(closing: UInt8(ascii: "}")) { continue }
                return
            }
        }

        /// A value, built as far as `selection` asks (`.skip` and `.locatedUnbuilt` read as null:
        /// an object built by selection leaves such members out).
        mutating func selected(_ selection: JSONSelection, depth: Int) throws -> JSONValue {
            guard pos < bytes.count else { throw error("unexpected end of input") }
            switch selection {
            case .all:
                return try value(depth: depth)
            case .skip:
                try skip(depth: depth)
                return .null
            case .locatedUnbuilt:
                let start = pos
                try skip(depth: depth)
                unbuilt = start..<pos
                return .null
            case .spanned(let inner):
                let start = pos
                let v = try selected(inner, depth: depth)
                spanned = start..<pos
                return v
            case .located:
                let start = pos
                let v = try value(depth: depth)
                located = v.stringValue == nil ? nil : (start + 1)..<(pos - 1)
                return v
            case .members(let wanted):
                guard bytes[pos] == UInt8(ascii: "{") else { return try value(depth: depth) }
                return try object(selecting: wanted, buildingTheRest: false, depth: depth)
            case .allExcept(let named):
                guard bytes[pos] == UInt8(ascii: "{") else { return try value(depth: depth) }
                return try object(selecting: named, buildingTheRest: true, depth: depth)
            case .elements(let each):
                guard bytes[pos] == UInt8(ascii: "[") else { return try value(depth: depth) }
                return try array(each: each, depth: depth + 1)
            }
        }

        /// An object's members: those `named` with their own selection, the others built whole
        /// (`buildingTheRest`) or checked and left out.
        mutating func object(selecting named: JSONSelectionMembers, buildingTheRest: Bool, depth: Int) throws -> JSONValue {
            var members: [JSONObject.Element] = []
            members.reserveCapacity(buildingTheRest ? 8 : named.entries.count)
            // A plain key is matched by its bytes; one with escapes or non-ASCII is read (and
            // checked) as a string first. A key not named is made a `String` only when it is built.
            try eachMember(
                depth: depth + 1,
                key: { r -> (index: Int?, key: String?) in
                    if let key = r.plainKey() {
                        if let index = named.index(forKeyBytes: key) { return (index, nil) }
                        guard buildingTheRest else { return (nil, nil) }
                        // Plain ASCII without escapes: the string `string()` would read.
                        return (nil, KnownStrings.string(key) ?? String(decoding: key, as: UTF8.self))
                    }
                    let key = try r.string()
                    return (named.index(forKey: key), key)
                }
            ) { r, found in
                if let index = found.index {
                    let selection = named.entries[index].selection
                    let v = try r.selected(selection, depth: depth + 1)
                    if !selection.leavesOut { members.append((named.entries[index].key, v)) }
                } else if buildingTheRest, let key = found.key {
                    members.append((key, try r.value(depth: depth + 1)))
                } else {
                    try r.skip(depth: depth + 1)
                }
            }
            return .object(JSONObject(members: members))
        }

        /// An array from its `[`, each element read with `each`. (`array(depth:)` is the same loop
        /// over `value`: one loop for both, or a closure, measured 5 % slower on every array.)
        mutating func array(each: JSONSelection, depth: Int) throws -> JSONValue {
            guard depth <= JSONReader.maxDepth else { throw error("nested deeper than \(JSONReader.maxDepth) levels") }
            pos += 1
            var a: [JSONValue] = []
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                return .array(a)
            }
            while true {
                skipSpace()
                a.append(try selected(each, depth: depth))
                if try nextMember(closing: UInt8(ascii: "]")) { continue }
                return .array(a)
            }
        }

        /// At a key's opening quote: the key's bytes when they are plain ASCII without escapes (the
        /// cursor then stands after the closing quote); nil, the cursor unmoved, otherwise.
        @inline(__always) mutating func plainKey() -> UnsafeBufferPointer<UInt8>? {
            let start = pos + 1
            let end = plainRun(from: start)
            guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
            pos = end + 1
            return UnsafeBufferPointer(rebasing: bytes[start..<end])
        }

        /// `paths`: the lazy paths still to follow from here (`rest` empty: this value is the array).
        mutating func lazyValue(
            paths: [(index: Int, rest: ArraySlice<String>)], keep: Set<String>, elements: inout [[LazyElement]], depth: Int
        ) throws -> JSONValue {
            guard pos < bytes.count else { throw error("unexpected end of input") }
            if let here = paths.first(where: { $0.rest.isEmpty }), bytes[pos] == UInt8(ascii: "[") {
                try lazyArray(keep: keep, elements: &elements[here.index], depth: depth + 1)
                return .array([])
            }
            let open = paths.filter { !$0.rest.isEmpty }
            guard !open.isEmpty, bytes[pos] == UInt8(ascii: "{") else { return try value(depth: depth) }
            var members: [JSONObject.Element] = []
            // Where the elements of each lazy key of this level begin: a key given twice keeps only
            // the last copy's elements, as Go's decoder keeps the last value.
            var lazyStart: [Int: Int] = [:]
            try eachMember(depth: depth + 1) { r, key in
                let lower = key.lowercased()
                let matching = open.filter { $0.rest.first! == lower }.map { (index: $0.index, rest: $0.rest.dropFirst()) }
                if matching.isEmpty {
                    members.append((key, try r.value(depth: depth + 1)))
                    return
                }
                for path in matching {
                    if let start = lazyStart[path.index] { elements[path.index].removeSubrange(start...) }
                    lazyStart[path.index] = elements[path.index].count
                }
                members.append((key, try r.lazyValue(paths: matching, keep: keep, elements: &elements, depth: depth + 1)))
            }
            return .object(JSONObject(members: members))
        }

        mutating func lazyArray(keep: Set<String>, elements: inout [LazyElement], depth: Int) throws {
            guard depth <= JSONReader.maxDepth else { throw error("nested deeper than \(JSONReader.maxDepth) levels") }
            pos += 1
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                return
            }
            while true {
                skipSpace()
                let start = pos
                var kept = JSONObject()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "{") {
                    try eachMember(depth: depth + 1) { r, key in
                        if keep.contains(key) { kept[key] = try r.value(depth: depth + 1) } else { try r.skip(depth: depth + 1) }
                    }
                } else {
                    try skip(depth: depth)
                }
                elements.append(LazyElement(range: start..<pos, kept: kept))
                if try nextMember(closing: UInt8(ascii: "]")) { continue }
                return
            }
        }

        /// Checks one value is JSON and moves past it without building it.
        mutating func skip(depth: Int) throws {
            guard pos < bytes.count else { throw error("unexpected end of input") }
            switch bytes[pos] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard depth + 1 <= JSONReader.maxDepth else { throw error("nested deeper than \(JSONReader.maxDepth) levels") }
                let isObject = bytes[pos] == UInt8(ascii: "{")
                let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                pos += 1
                skipSpace()
                if pos < bytes.count, bytes[pos] == close {
                    pos += 1
                    return
                }
                while true {
                    skipSpace()
                    if isObject {
                        guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw error("expected an object key") }
                        try skipString()
                        skipSpace()
                        guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':'") }
                        pos += 1
                        skipSpace()
                    }
                    try skip(depth: depth + 1)
                    skipSpace()
                    guard pos < bytes.count else { throw error("unexpected end of input") }
                    if bytes[pos] == UInt8(ascii: ",") {
                        pos += 1
                        continue
                    }
                    if bytes[pos] == close {
                        pos += 1
                        return
                    }
                    throw error(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
                }
            case UInt8(ascii: "\""): try skipString()
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
            default: _ = try value(depth: depth)  // literals are cheap
            }
        }

        /// The position of the first byte at or after `start` that ends a plain run inside a string:
        /// a quote, a backslash, a control character or a non-ASCII byte (or the end), eight bytes
        /// at a time (`EscapeScan`; a high bit set anywhere stops too).
        @inline(__always) func plainRun(from start: Int) -> Int {
            var p = start
            let end = bytes.count
            if let base = bytes.baseAddress {
                let raw = UnsafeRawPointer(base)
                while p + 8 <= end {
                    let v = raw.loadUnaligned(fromByteOffset: p, as: UInt64.self)
                    if EscapeScan.specials(v) | (v & EscapeScan.highs) != 0 { break }
                    p += 8
                }
            }
            while p < end {
                let b = bytes[p]
                if EscapeScan.isSpecial(b) || b >= 0x80 { break }
                p += 1
            }
            return p
        }

        /// Moves past a string, checking escapes, control characters and UTF-8 (not building it).
        mutating func skipString() throws {
            pos += 1
            var ascii = true
            let start = pos
            while true {
                pos = plainRun(from: pos)
                guard pos < bytes.count else { break }
                let b = bytes[pos]
                if b == UInt8(ascii: "\"") {
                    // Escapes are ASCII, so the raw bytes are valid UTF-8 exactly when the string is.
                    if !ascii { _ = try validated(UnsafeBufferPointer(rebasing: bytes[start..<pos]), at: start) }
                    pos += 1
                    return
                }
                if b < 0x20 { throw error("control character in a string") }
                pos += 1
                if b >= 0x80 {
                    ascii = false
                    continue
                }
                // A backslash.
                guard pos < bytes.count else { break }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    continue
                case UInt8(ascii: "u"):
                    let scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired UTF-16 surrogate")
                        }
                        pos += 2
                        guard (0xDC00...0xDFFF).contains(try hex4()) else { throw error("unpaired UTF-16 surrogate") }
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error("unpaired UTF-16 surrogate")
                    }
                default: throw error("invalid escape")
                }
            }
            throw error("unterminated string")
        }

        /// Moves past a number. A plain integer of up to 18 digits (always an Int64) is only
        /// scanned; anything else goes through `number()`, so skipping accepts exactly what reading does.
        mutating func skipNumber() throws {
            let start = pos
            var p = pos
            if bytes[p] == UInt8(ascii: "-") { p += 1 }
            let digits = p
            while p < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[p]) { p += 1 }
            let count = p - digits
            let ends =
                p == bytes.count || !(bytes[p] == UInt8(ascii: ".") || bytes[p] == UInt8(ascii: "e") || bytes[p] == UInt8(ascii: "E"))
            if count >= 1, count <= 18, ends, count == 1 || bytes[digits] != UInt8(ascii: "0") {
                pos = p
                return
            }
            pos = start
            _ = try number()
        }

        /// After a member or an element: true past a `,` (another follows), false past `closing` (the
        /// object or array ends); anything else is an error.
        @inline(__always) mutating func nextMember(closing: UInt8) throws -> Bool {
            skipSpace()
            guard pos < bytes.count else {
                throw error(closing == UInt8(ascii: "}") ? "unexpected end of input in an object" : "unexpected end of input in an array")
            }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
                return true
            }
            guard bytes[pos] == closing else { throw error(closing == UInt8(ascii: "}") ? "expected ',' or '}'" : "expected ',' or ']'") }
            pos += 1
            return false
        }

        @inline(__always) mutating func skipSpace() {
            while pos < bytes.count {
                switch bytes[pos] {
                case 0x20, 0x0A, 0x0D, 0x09: pos += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard pos < bytes.count else { throw error("unexpected end of input") }
            switch bytes[pos] {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("expected a JSON value")
            }
        }

        mutating func literal(_ word: StaticString) throws {
            let n = word.utf8CodeUnitCount
            guard pos + n <= bytes.count else { throw error("unexpected end of input") }
            let w = word.utf8Start
            for i in 0..<n where bytes[pos + i] != w[i] { throw error("expected \(word)") }
            pos += n
        }

        mutating func object(depth: Int) throws -> JSONValue {
            // Members are collected first and hashed once into a dictionary of the right size.
            // Room for a typical Kubernetes object's members at once: growing the array member by
            // member reallocates it several times (the values are short-lived: a request's body).
            var members: [JSONObject.Element] = []
            members.reserveCapacity(8)
            try eachMember(depth: depth) { r, key in members.append((key, try r.value(depth: depth))) }
            return .object(JSONObject(members: members))
        }

        mutating func array(depth: Int) throws -> JSONValue {
            guard depth <= JSONReader.maxDepth else { throw error("nested deeper than \(JSONReader.maxDepth) levels") }
            pos += 1
            var a: [JSONValue] = []
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                return .array(a)
            }
            while true {
                skipSpace()
                a.append(try value(depth: depth))
                if try nextMember(closing: UInt8(ascii: "]")) { continue }
                return .array(a)
            }
        }

        mutating func string() throws -> String {
            pos += 1  // opening quote
            let start = pos
            // Fast path: no escapes; pure ASCII needs no UTF-8 validation.
            var ascii = true
            while true {
                pos = plainRun(from: pos)
                guard pos < bytes.count else { break }
                let b = bytes[pos]
                if b == UInt8(ascii: "\"") {
                    let raw = UnsafeBufferPointer(rebasing: bytes[start..<pos])
                    let s = ascii ? KnownStrings.string(raw) ?? String(decoding: raw, as: UTF8.self) : try validated(raw, at: start)
                    pos += 1
                    return s
                }
                if b == UInt8(ascii: "\\") { break }
                if b < 0x20 { throw error("control character in a string") }
                ascii = false  // b >= 0x80
                pos += 1
            }
            var out = Array(bytes[start..<pos])
            while pos < bytes.count {
                let b = bytes[pos]
                if b == UInt8(ascii: "\"") {
                    pos += 1
                    return try out.withUnsafeBufferPointer { try validated($0, at: start) }
                }
                if b < 0x20 { throw error("control character in a string") }
                if b != UInt8(ascii: "\\") {
                    out.append(b)
                    pos += 1
                    continue
                }
                pos += 1
                guard pos < bytes.count else { break }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired UTF-16 surrogate")
                        }
                        pos += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired UTF-16 surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error("unpaired UTF-16 surrogate")
                    }
                    out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                default: throw error("invalid escape")
                }
            }
            throw error("unterminated string")
        }

        mutating func hex4() throws -> UInt32 {
            guard pos + 4 <= bytes.count else { throw error("short \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[pos]
                let d: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
                default: throw error("invalid \\u escape")
                }
                v = v << 4 | UInt32(d)
                pos += 1
            }
            return v
        }

        func validated(_ utf8: UnsafeBufferPointer<UInt8>, at offset: Int) throws -> String {
            guard let s = String(validating: utf8, as: UTF8.self) else {
                throw JSONParseError(offset: offset, reason: "string is not valid UTF-8")
            }
            return s
        }

        mutating func number() throws -> JSONValue {
            let start = pos
            var isInteger = true
            if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[pos]) else {
                throw error("expected a digit")
            }
            if bytes[pos] == UInt8(ascii: "0") {
                pos += 1
            } else {
                while pos < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[pos]) { pos += 1 }
            }
            if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
                isInteger = false
                pos += 1
                let digits = pos
                while pos < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[pos]) { pos += 1 }
                guard pos > digits else { throw error("expected a digit after '.'") }
            }
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
                isInteger = false
                pos += 1
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
                let digits = pos
                while pos < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[pos]) { pos += 1 }
                guard pos > digits else { throw error("expected a digit in the exponent") }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
            if isInteger, let i = Int64(text) { return .integer(i) }
            guard let d = Double(text), d.isFinite else { throw JSONParseError(offset: start, reason: "number out of range") }
            return .number(d)
        }
    }
}
