import Foundation

/// Node name → row number, for the request path: an open-addressing table over the names' UTF-8
/// bytes, kept in memory of its own so a lookup hashes eight bytes at a time and compares bytes,
/// with no reference counting. Immutable once built; the index builds a new one when nodes are
/// added. (Node names come from the cluster's Node objects, which only administrators create,
/// so the fast hash needs no seed against flooding.)
final class NodeNameTable: @unchecked Sendable {
    /// Slot → the name's hash in the high 32 bits, row number + 1 in the low 32 (0: empty), so a
    /// probe reads one word.
    private let slots: UnsafeMutableBufferPointer<UInt64>
    /// The names' bytes, back to back; row `id`'s name is `bytes[starts[id]..<starts[id + 1]]`.
    private let bytes: UnsafeMutableBufferPointer<UInt8>
    private let starts: UnsafeMutableBufferPointer<Int32>
    private let mask: Int
    let count: Int

    /// `names[id]` is row `id`'s name; names are distinct.
    init(names: [String]) {
        count = names.count
        var capacity = 16
        while capacity < names.count * 2 { capacity <<= 1 }
        mask = capacity - 1
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0)
        let total = names.reduce(0) { $0 + $1.utf8.count }
        bytes = .allocate(capacity: max(1, total))
        starts = .allocate(capacity: names.count + 1)
        var offset = 0
        for (id, name) in names.enumerated() {
            starts[id] = Int32(offset)
            for b in name.utf8 {
                bytes[offset] = b
                offset += 1
            }
            let h = Self.hash(UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(bytes)[Int(starts[id])..<offset]))
            var slot = Int(truncatingIfNeeded: h) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = (h & 0xFFFF_FFFF_0000_0000) | UInt64(id + 1)
        }
        starts[names.count] = Int32(offset)
    }

    deinit {
        slots.deallocate()
        bytes.deallocate()
        starts.deallocate()
    }

    /// The row of `name`, or nil for a name the table does not hold.
    @inline(__always)
    func id(of name: String) -> Int? {
        var name = name
        return name.withUTF8 { utf8 in id(of: UnsafeRawBufferPointer(utf8)) }
    }

    func id(of name: UnsafeRawBufferPointer) -> Int? {
        let h = Self.hash(name)
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            if entry & 0xFFFF_FFFF_0000_0000 == h & 0xFFFF_FFFF_0000_0000 {
                let id = Int(entry & 0xFFFF_FFFF) - 1
                let start = Int(starts[id])
                let length = Int(starts[id + 1]) - start
                if length == name.count, length == 0 || memcmp(bytes.baseAddress! + start, name.baseAddress!, length) == 0 { return id }
            }
            slot = (slot + 1) & mask
        }
    }

    /// A 64-bit hash of `p`, eight bytes at a time (multiply and fold).
    @inline(__always)
    static func hash(_ p: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(p.count)
        var i = 0
        while i + 8 <= p.count {
            h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < p.count {
            tail |= UInt64(p[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 29)
    }
}
