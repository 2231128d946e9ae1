/// A configuration value as found: a YAML scalar or list from the config file, or a string from an
/// environment variable or a flag; with its key and source, so that a refusal can say which.
struct ConfigInput {
    let value: Any
    let key: String
    /// `config FILE`, `environment LOCUS_…` or the flag.
    let source: String

    /// The error for a value the key does not take: `source: key <phrase>`.
    func refused(_ phrase: String) -> ConfigError {
        ConfigError("\(source): \(key) \(phrase)")
    }

    /// Any scalar, as written.
    func string() throws -> String {
        if let s = value as? String { return s }
        if let i = value as? Int { return String(i) }
        if let d = value as? Double { return String(d) }
        if let b = value as? Bool { return String(b) }
        throw refused("must be a string")
    }

    /// A YAML integer, or a string holding one.
    var integer: Int? {
        (value as? Int) ?? (value as? String).flatMap { Int($0) }
    }

    /// A YAML number (integer or decimal), or a string holding one.
    var number: Double? {
        (value as? Double) ?? (value as? Int).map(Double.init) ?? (value as? String).flatMap { Double($0) }
    }
}
