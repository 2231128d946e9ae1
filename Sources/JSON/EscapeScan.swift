/// Finding, eight bytes at a time, the bytes a JSON string cannot hold as they are: a quote, a
/// backslash or a control character. Strings are most of a Kubernetes object's bytes, read and
/// written alike.
///
/// A byte is zero exactly when `(x - 1) & ~x` has its high bit; below 0x20 when `(x - 0x20) & ~x`
/// has it, for a byte under 0x80 (a byte from 0x80 has its own high bit in `~x` clear). Of the
/// whole word the answer is exact; of each byte it need not be, so a hit is then looked at byte by
/// byte.
enum EscapeScan {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The word's high bits: one is set when some byte of `v` is a quote, a backslash or below 0x20.
    @inline(__always)
    static func specials(_ v: UInt64) -> UInt64 {
        let quote = v ^ (ones &* 0x22)
        let backslash = v ^ (ones &* 0x5C)
        return (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((v &- ones &* 0x20) & ~v)) & highs
    }

    /// Whether `b` is a quote, a backslash or below 0x20.
    @inline(__always)
    static func isSpecial(_ b: UInt8) -> Bool { b < 0x20 || b == 0x22 || b == 0x5C }
}
