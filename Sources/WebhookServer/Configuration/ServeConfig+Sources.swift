import KubeClient
import Yams

extension ServeConfig {
    /// The keys by name.
    static let keysByName = Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0) })

    /// Applies the YAML config file at `path` (a file that cannot be read says why).
    public mutating func apply(file path: String) throws {
        let data = try FileAccess.read(path, what: "config")
        try apply(yaml: String(decoding: data, as: UTF8.self), source: path)
    }

    /// Applies a YAML config file's text. Unknown keys and wrong types are errors.
    public mutating func apply(yaml: String, source: String) throws {
        let root: Any?
        do {
            root = try Yams.load(yaml: yaml)
        } catch {
            throw ConfigError("config \(source): not valid YAML")
        }
        guard let root else { return }  // an empty file
        guard let map = root as? [String: Any] else {
            throw ConfigError("config \(source): expected a mapping of settings at the top level")
        }
        let names = Self.keysByName.keys.sorted()
        for key in map.keys.sorted() where Self.keysByName[key] == nil {
            throw ConfigError("config \(source): unknown key \"\(key)\" (known: \(names.joined(separator: ", ")))")
        }
        for (key, value) in map.sorted(by: { $0.key < $1.key }) {
            try set(key, value, source: "config \(source)")
        }
    }

    /// Applies `LOCUS_<KEY>` variables (`LOCUS_PORT`, `LOCUS_CERT_FILE`, `LOCUS_LOG_LEVEL`, …).
    public mutating func apply(environment: [String: String]) throws {
        for key in Self.keysByName.keys.sorted() {
            let env = Self.environmentName(key)
            if let value = environment[env] { try set(key, value, source: "environment \(env)") }
        }
    }

    /// `LOCUS_` and the key in upper snake case; an acronym stays one word
    /// (`localityTTLSeconds` → `LOCUS_LOCALITY_TTL_SECONDS`).
    public static func environmentName(_ key: String) -> String {
        let chars = Array(key)
        var out = "LOCUS_"
        for (i, ch) in chars.enumerated() {
            if i > 0, ch.isUppercase {
                let previous = chars[i - 1]
                let next = i + 1 < chars.count ? chars[i + 1] : nil
                if !previous.isUppercase || next?.isLowercase == true { out += "_" }
            }
            out += ch.uppercased()
        }
        return out
    }

    /// Reads one value of `key` from `source` (`config FILE`, `environment LOCUS_…`, a flag).
    mutating func set(_ key: String, _ value: Any, source: String) throws {
        guard let configKey = Self.keysByName[key] else { throw ConfigError("\(source): unknown key \"\(key)\"") }
        try configKey.assign(&self, ConfigInput(value: value, key: key, source: source))
    }
}
