import Foundation
public import Logging
import Synchronization

/// One JSON object per line on stderr: `ts`, `level`, `logger`, `msg` and the metadata.
/// Metadata whose key names a secret is redacted, whatever a caller passes.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let sink: @Sendable (String) -> Void

    public init(label: String, sink: @escaping @Sendable (String) -> Void = JSONLogHandler.stderr) {
        self.label = label
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static let secretKeys = ["token", "password", "secret", "authorization", "key-data", "privatekey", "bearer"]

    static func redact(_ key: String, _ value: String) -> String {
        let k = key.lowercased()
        return secretKeys.contains(where: { k.contains($0) }) ? "[redacted]" : value
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            (
                "ts",
                ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
            ),
            ("level", event.level.rawValue), ("logger", label), ("msg", "\(event.message)"),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (k, v) in merged.sorted(by: { $0.key < $1.key }) { fields.append((k, Self.redact(k, "\(v)"))) }
        var line = "{"
        for (i, (k, v)) in fields.enumerated() {
            if i > 0 { line += "," }
            line += Self.quote(k) + ":" + Self.quote(v)
        }
        line += "}\n"
        sink(line)
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    public static let stderr: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }
}
