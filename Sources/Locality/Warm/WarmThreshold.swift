import Foundation

/// How much of a dataset one node must cache for the dataset to count as warm there: a share of
/// the dataset's size (Fluid's `status.ufsTotal`) or a number of bytes.
public enum WarmThreshold: Sendable, Hashable, CustomStringConvertible {
    /// A share in `0...1`.
    case share(Double)
    case bytes(Int64)

    /// `80%`, `0.8` is not accepted (ambiguous); bytes as Kubernetes or Fluid write them (`20Gi`, `512.00MiB`).
    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix("%") {
            guard let v = Double(t.dropLast().trimmingCharacters(in: .whitespaces)), v.isFinite, v > 0, v <= 100 else { return nil }
            self = .share(v / 100)
        } else if let b = ByteQuantity.parse(t), b > 0 {
            self = .bytes(b)
        } else {
            return nil
        }
    }

    public var isShare: Bool {
        if case .share = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .share(let s): "\(Self.percent(s))%"
        case .bytes(let b): ByteQuantity.format(b)
        }
    }

    static func percent(_ share: Double) -> String {
        let p = share * 100
        return p == p.rounded() ? String(Int(p)) : String(format: "%.1f", p)
    }

    /// The bytes one node must hold of a dataset of `total` bytes; nil when the threshold is a
    /// share and the size is unknown (then only a finished warm-up says the dataset is warm).
    public func bytes(ofTotal total: Int64?) -> Int64? {
        switch self {
        case .bytes(let b): return b
        case .share(let s):
            guard let total, total > 0 else { return nil }
            return Int64((Double(total) * s).rounded(.up))
        }
    }
}
