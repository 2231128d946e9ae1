import Foundation

/// Standard base64 (RFC 4648, padded), appended to a byte buffer.
enum Base64 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    /// Every pair of characters, by the 12 bits they stand for, as the two bytes they are in
    /// memory (the first character at the lower address).
    static let pairs: [UInt16] = (0..<4096).map { v in
        let first = UInt16(alphabet[v >> 6])
        let second = UInt16(alphabet[v & 63])
        return (first | second << 8).littleEndian
    }

    static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        let length = (bytes.count + 2) / 3 * 4
        // Written in place at the end of `out` (room made first), not into an array then copied.
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: length))
        out.withUnsafeMutableBufferPointer { whole in
            let target = UnsafeMutableBufferPointer(rebasing: whole[start...])
            bytes.withUnsafeBufferPointer { source in
                alphabet.withUnsafeBufferPointer { a in
                    var i = 0
                    var o = 0
                    // Two characters at a time: 12 bits index a table of character pairs.
                    let out = UnsafeMutableRawPointer(target.baseAddress!)
                    pairs.withUnsafeBufferPointer { pair in
                        while i + 3 <= source.count {
                            let v = Int(source[i]) << 16 | Int(source[i + 1]) << 8 | Int(source[i + 2])
                            out.storeBytes(of: pair[v >> 12], toByteOffset: o, as: UInt16.self)
                            out.storeBytes(of: pair[v & 0xFFF], toByteOffset: o + 2, as: UInt16.self)
                            i += 3
                            o += 4
                        }
                    }
                    let rest = source.count - i
                    if rest > 0 {
                        let v = UInt32(source[i]) << 16 | (rest == 2 ? UInt32(source[i + 1]) << 8 : 0)
                        target[o] = a[Int(v >> 18 & 63)]
                        target[o + 1] = a[Int(v >> 12 & 63)]
                        target[o + 2] = rest == 2 ? a[Int(v >> 6 & 63)] : UInt8(ascii: "=")
                        target[o + 3] = UInt8(ascii: "=")
                        o += 4
                    }
                }
            }
        }
    }
}
