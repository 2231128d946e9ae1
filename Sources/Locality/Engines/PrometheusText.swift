import Foundation

/// The samples of a Prometheus text exposition (version 0.0.4), read as engines' workers serve it.
public enum PrometheusText {
    public struct Sample {
        public var name: Substring
        /// The text between the braces, empty without labels.
        public var labels: Substring
        public var value: Double
    }

    /// Every sample line with a finite value; comments, blank and malformed lines are skipped.
    public static func samples(_ text: String) -> [Sample] {
        text.split(separator: "\n").compactMap { line in
            guard let first = line.first, first != "#" else { return nil }
            let name: Substring
            let labels: Substring
            let rest: Substring
            if let open = line.firstIndex(of: "{") {
                guard let close = line.lastIndex(of: "}"), close > open else { return nil }
                name = line[..<open]
                labels = line[line.index(after: open)..<close]
                rest = line[line.index(after: close)...]
            } else {
                guard let space = line.firstIndex(of: " ") else { return nil }
                name = line[..<space]
                labels = ""
                rest = line[space...]
            }
            guard let value = rest.split(separator: " ").first.flatMap({ Double($0) }), value.isFinite else { return nil }
            return Sample(name: name, labels: labels, value: value)
        }
    }

    /// The value of `name="…"` in a label set (escapes `\"`, `\\`, `\n` honoured).
    public static func labelValue(_ labels: Substring, _ name: String) -> String? {
        var rest = labels[...]
        while let eq = rest.firstIndex(of: "=") {
            let key = rest[..<eq].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
            var i = rest.index(after: eq)
            guard i < rest.endIndex, rest[i] == "\"" else { return nil }
            i = rest.index(after: i)
            var value = ""
            while i < rest.endIndex, rest[i] != "\"" {
                if rest[i] == "\\", rest.index(after: i) < rest.endIndex {
                    i = rest.index(after: i)
                    value.append(rest[i] == "n" ? "\n" : rest[i])
                } else {
                    value.append(rest[i])
                }
                i = rest.index(after: i)
            }
            if key == name { return value }
            rest = i < rest.endIndex ? rest[rest.index(after: i)...] : ""
        }
        return nil
    }
}
