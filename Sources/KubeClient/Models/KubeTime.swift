public import Foundation

/// Times as the API server writes them: `Time` is RFC 3339 in UTC to the second, `MicroTime`
/// (a Lease's times) the same with six fractional digits.
public enum KubeTime {
    public static func time(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    public static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        let micros = Int(((seconds - whole) * 1_000_000).rounded(.down))
        return time(Date(timeIntervalSince1970: whole)).dropLast() + "." + String(format: "%06d", micros) + "Z"
    }

    /// A `Time` or `MicroTime` read back; nil when the text is neither.
    public static func date(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }
}
