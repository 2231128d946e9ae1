import Foundation
public import JSON

/// The operator's choices for warm-before-scheduling (config key `warmUp`), and how a pod's
/// labels and annotations refine them.
public struct WarmPolicy: Sendable, Equatable {
    /// The warm-up controller runs: without it no pod is gated, since no one would lift the gate.
    public var enabled = false
    /// Every pod that uses a dataset waits for it unless it says `locus.dev/warm: "false"`.
    public var byDefault = false
    public var threshold = WarmThreshold.share(0.9)
    public var deadlineSeconds: Double = 600
    /// A replica holds the warm-up controller's Lease and renews it (not configuration: read
    /// from the Lease for each review). Without one no pod is gated: no one would lift the gate.
    public var controllerAlive = true

    public init() {}

    /// Whether a pod with these labels, in a namespace with these labels, asks to wait for warm data.
    public func optedIn(labels: StringMembers, namespaceLabels: [String: String]) -> Bool {
        guard enabled else { return false }
        switch labels[Keys.warm] {
        case "true": return true
        case "false": return false
        default: return namespaceLabels[Keys.warm] == "true" || byDefault
        }
    }

    /// The pod's threshold and deadline: its annotations where they parse, else the policy's; a
    /// problem for each annotation that does not parse (the policy's value is used instead).
    public func terms(annotations: StringMembers) -> (threshold: WarmThreshold, deadlineSeconds: Double, problems: [String]) {
        var problems: [String] = []
        var threshold = self.threshold
        var deadline = deadlineSeconds
        if let text = annotations[Keys.warmThreshold] {
            if let t = WarmThreshold(text) {
                threshold = t
            } else {
                problems.append(
                    "annotation \(Keys.warmThreshold): \"\(text)\" is neither a share (80%) nor bytes (20Gi); using \(self.threshold)")
            }
        }
        if let text = annotations[Keys.warmDeadline] {
            if let d = Self.seconds(text) {
                deadline = d
            } else {
                problems.append(
                    "annotation \(Keys.warmDeadline): \"\(text)\" is not a duration (90s, 10m, 1h); using \(Self.duration(deadlineSeconds))"
                )
            }
        }
        return (threshold, deadline, problems)
    }

    /// Seconds of a duration written `90s`, `10m`, `1h` or `1h30m`; nil otherwise or when not positive.
    public static func seconds(_ text: String) -> Double? {
        var total = 0.0
        var number = ""
        var units = 0
        for c in text.trimmingCharacters(in: .whitespaces) {
            if c.isNumber || c == "." {
                number.append(c)
                continue
            }
            let factor: Double
            switch c {
            case "s": factor = 1
            case "m": factor = 60
            case "h": factor = 3600
            default: return nil
            }
            guard let v = Double(number) else { return nil }
            total += v * factor
            number = ""
            units += 1
        }
        guard number.isEmpty, units > 0, total > 0, total.isFinite else { return nil }
        return total
    }

    /// `10m`, `90s`, `1h30m`.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        let (h, m, r) = (s / 3600, s % 3600 / 60, s % 60)
        let text = (h > 0 ? "\(h)h" : "") + (m > 0 ? "\(m)m" : "") + (r > 0 ? "\(r)s" : "")
        return text.isEmpty ? "0s" : text
    }
}
