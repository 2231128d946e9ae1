import Foundation
import JSON

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
