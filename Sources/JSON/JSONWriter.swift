import Foundation

/// Compact JSON output with sorted object keys (a `JSONObject` keeps them sorted); strings escaped as RFC 8259 requires.
enum JSONWriter {
    static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .integer(let i): writeInteger(i, into: &out)
        case .number(let d):
            if !d.isFinite {
                out.append(contentsOf: "null".utf8)  // JSON has no NaN or infinity
            } else if d.rounded() == d, abs(d) < 1e15 {
                writeInteger(Int64(d), into: &out)
            } else {
                out.append(contentsOf: "\(d)".utf8)
            }
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            a.withUnsafeBufferPointer { elements in
                for i in elements.indices {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    write(elements[i], into: &out)
                }
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            o.members.withUnsafeBufferPointer { members in
                for i in members.indices {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    writeString(members[i].key, into: &out)
                    out.append(UInt8(ascii: ":"))
                    write(members[i].value, into: &out)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// `i` in decimal, without making a string of it first.
    static func writeInteger(_ i: Int64, into out: inout [UInt8]) {
        if i >= 0 && i < 10 {
            out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: i))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: enough for 20 digits and a sign
        var magnitude = i.magnitude
        withUnsafeMutableBytes(of: &digits) { buffer in
            var at = buffer.count
            repeat {
                at -= 1
                buffer[at] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if i < 0 {
                at -= 1
                buffer[at] = UInt8(ascii: "-")
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[at...]))
        }
    }

    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Whether `bytes` need no escaping in a JSON string: no quote, backslash or control character
    /// (eight bytes at a time, `EscapeScan`).
    @inline(__always)
    static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var p = 0
        while p + 8 <= bytes.count {
            if EscapeScan.specials(raw.loadUnaligned(fromByteOffset: p, as: UInt64.self)) != 0 { return false }
            p += 8
        }
        while p < bytes.count {
            if EscapeScan.isSpecial(bytes[p]) { return false }
            p += 1
        }
        return true
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings (names, labels, paths) need no escaping: copy them whole, scanned and
        // copied as one contiguous buffer (a native string's own storage, no copy).
        var s = s
        let copied = s.withUTF8 { bytes -> Bool in
            guard isPlain(bytes) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied {
            out.append(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case 0x22:
                out.append(0x5C)
                out.append(0x22)
            case 0x5C:
                out.append(0x5C)
                out.append(0x5C)
            case 0x0A:
                out.append(0x5C)
                out.append(UInt8(ascii: "n"))
            case 0x0D:
                out.append(0x5C)
                out.append(UInt8(ascii: "r"))
            case 0x09:
                out.append(0x5C)
                out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
