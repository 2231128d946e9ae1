import Foundation

/// Byte amounts as Fluid and Kubernetes write them: Fluid's `"96.00GiB"`, `"512.00MiB"`, `"0.00B"`,
/// and Kubernetes quantities `"40Gi"`, `"200G"`, `"1.5Ti"`, `"1048576"`.
public enum ByteQuantity {
    static let units: [(String, Double)] = [
        ("EiB", 0x1p60), ("PiB", 0x1p50), ("TiB", 0x1p40), ("GiB", 0x1p30), ("MiB", 0x1p20), ("KiB", 0x1p10),
        ("Ei", 0x1p60), ("Pi", 0x1p50), ("Ti", 0x1p40), ("Gi", 0x1p30), ("Mi", 0x1p20), ("Ki", 0x1p10),
        ("EB", 1e18), ("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("kB", 1e3),
        ("E", 1e18), ("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3), ("B", 1),
    ]

    /// Bytes, or nil when the text is not a byte amount.
    public static func parse(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty else { return nil }
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            let number = t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard let v = Double(number), v.isFinite, v >= 0, v * factor < 9.2e18 else { return nil }
            return Int64((v * factor).rounded())
        }
        guard let v = Double(t), v.isFinite, v >= 0, v < 9.2e18 else { return nil }
        return Int64(v.rounded())
    }

    /// `96.0 GiB`-style text for people.
    public static func format(_ bytes: Int64) -> String {
        let b = Double(bytes)
        for (suffix, factor) in [("TiB", Double(1 << 40)), ("GiB", Double(1 << 30)), ("MiB", Double(1 << 20)), ("KiB", 1024.0)]
        where b >= factor {
            return String(format: "%.1f %@", b / factor, suffix)
        }
        return "\(bytes) B"
    }
}
