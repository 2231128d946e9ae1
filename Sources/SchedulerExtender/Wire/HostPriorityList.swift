import Foundation
import JSON

/// `HostPriorityList`: `[{"Host": name, "Score": 0…10}]`.
public func encodeHostPriorities(_ scores: [(host: String, score: Int)]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(32 * scores.count + 2)
    writeHostPriorities(count: scores.count, host: { scores[$0].host }, score: { scores[$0].score }, into: &out)
    return out
}

/// The size of the usual `HostPriorityList` (plain node names, scores 0…10), which
/// `writePlainHostPriorities` writes with no per-entry growth checks; nil when an entry is not
/// plain (a name that needs escaping, a score out of range).
public func plainHostPrioritiesSize(names: NodeNameList, score: (Int) -> Int) -> Int? {
    var size = 2 + max(0, names.count - 1)
    for i in names.indices {
        let s = score(i)
        guard (0...10).contains(s) else { return nil }
        if s == 10 { size += 1 }
    }
    guard names.needsNoEscaping else { return nil }
    size += 21 * names.count + names.bytes.count  // {"Host":"NAME","Score":D}
    return size
}

/// Writes the plain `HostPriorityList` of `plainHostPrioritiesSize` bytes at `start`, which has
/// room for exactly that many.
public func writePlainHostPriorities(names: NodeNameList, score: (Int) -> Int, size: Int, at start: UnsafeMutablePointer<UInt8>) {
    var p = start
    @inline(__always) func put(_ s: StaticString) {
        UnsafeMutableRawPointer(p).copyMemory(from: s.utf8Start, byteCount: s.utf8CodeUnitCount)
        p += s.utf8CodeUnitCount
    }
    p.pointee = UInt8(ascii: "[")
    p += 1
    names.forEachName { i, name in
        if i > 0 {
            p.pointee = UInt8(ascii: ",")
            p += 1
        }
        put(#"{"Host":""#)
        if let from = name.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: from, byteCount: name.count) }
        p += name.count
        put(#"","Score":"#)
        let s = score(i)
        if s == 10 {
            p.pointee = UInt8(ascii: "1")
            p += 1
        }
        p.pointee = UInt8(ascii: "0") + UInt8(s % 10)
        p[1] = UInt8(ascii: "}")
        p += 2
    }
    precondition(p == start + size - 1, "HostPriorityList sized wrongly")
    p.pointee = UInt8(ascii: "]")
}

/// The `HostPriorityList` of `count` entries straight into `out`: node names that need no JSON
/// escaping (all real ones) are copied byte for byte.
public func writeHostPriorities(count: Int, host: (Int) -> String, score: (Int) -> Int, into out: inout [UInt8]) {
    writeHostPriorities(names: NodeNameList((0..<count).map(host)), score: score, into: &out)
}

/// The same for the names of a request as sent.
public func writeHostPriorities(names: NodeNameList, score: (Int) -> Int, into out: inout [UInt8]) {
    if let size = plainHostPrioritiesSize(names: names, score: score) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: size))
        out.withUnsafeMutableBufferPointer { buffer in
            writePlainHostPriorities(names: names, score: score, size: size, at: buffer.baseAddress! + start)
        }
        return
    }
    @inline(__always) func put(_ s: StaticString, _ out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
    out.append(UInt8(ascii: "["))
    for i in names.indices {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        put(#"{"Host":"#, &out)
        let plain = names.withName(i) { bytes -> Bool in
            guard NodeNameList.needsNoEscaping(bytes) else { return false }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: bytes)
            out.append(UInt8(ascii: "\""))
            return true
        }
        if !plain { JSONValue.string(names[i]).write(into: &out) }
        put(#","Score":"#, &out)
        let s = score(i)
        if (0...9).contains(s) { out.append(UInt8(ascii: "0") + UInt8(s)) } else { out.append(contentsOf: String(s).utf8) }
        out.append(UInt8(ascii: "}"))
    }
    out.append(UInt8(ascii: "]"))
}
