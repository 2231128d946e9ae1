import Foundation
import JSON

/// `HostPriorityList`: `[{"Host": name, "Score": 0…10}]`.
public func encodeHostPriorities(_ scores: [(host: String, score: Int)]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(32 * scores.count + 2)
    writeHostPriorities(count: scores.count, host: { scores[$0].host }, score: { scores[$0].score }, into: &out)
    return out
}

/// The size of the usual `HostPriorityList` (plain node names, one-digit scores), which
/// `writePlainHostPriorities` writes with no per-entry growth checks; nil when an entry is not
/// plain (a name that needs escaping, a score of 10).
@inline(__always)
public func plainHostPrioritiesSize(count: Int, host: (Int) -> String, score: (Int) -> Int) -> Int? {
    var size = 2 + max(0, count - 1)
    for i in 0..<count {
        var name = host(i)
        let length = name.withUTF8 { bytes -> Int in
            for b in bytes where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return -1 }
            return bytes.count
        }
        guard length >= 0, (0...9).contains(score(i)) else { return nil }
        size += 21 + length  // {"Host":"NAME","Score":D}
    }
    return size
}

/// Writes the plain `HostPriorityList` of `plainHostPrioritiesSize` bytes at `start`, which has
/// room for exactly that many.
@inline(__always)
public func writePlainHostPriorities(count: Int, host: (Int) -> String, score: (Int) -> Int, size: Int, at start: UnsafeMutablePointer<UInt8>) {
    var p = start
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
    precondition(p == start + size - 1, "HostPriorityList sized wrongly")
    p.pointee = UInt8(ascii: "]")
}

/// The `HostPriorityList` of `count` entries straight into `out`: node names that need no JSON
/// escaping (all real ones) are copied byte for byte.
@inline(__always)
public func writeHostPriorities(count: Int, host: (Int) -> String, score: (Int) -> Int, into out: inout [UInt8]) {
    if let size = plainHostPrioritiesSize(count: count, host: host, score: score) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: size))
        out.withUnsafeMutableBufferPointer { buffer in
            writePlainHostPriorities(count: count, host: host, score: score, size: size, at: buffer.baseAddress! + start)
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
