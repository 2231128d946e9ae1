import Foundation
import Locality
import Mutators

/// How a configuration key's value is read, the same from every source: the config file gives YAML
/// scalars (or a list), the environment and flags give strings. A value the key does not take is a
/// `ConfigError` naming the source, the key and what it must be.
struct ConfigReader<Value>: Sendable {
    let read: @Sendable (ConfigInput) throws -> Value
}

extension ConfigReader where Value == String {
    /// Any scalar, as written.
    static var string: Self { Self { try $0.string() } }

    /// An absolute path other than `/`, without `..`.
    static var absolutePath: Self {
        Self { input in
            let v = try input.string()
            guard v.hasPrefix("/"), v.count > 1, !v.split(separator: "/").contains("..") else {
                throw input.refused("must be an absolute path without '..'")
            }
            return v
        }
    }

    /// An extended resource name (`fluid.io/fuse`), or empty for none; surrounding spaces dropped.
    static var extendedResource: Self {
        Self { input in
            let v = try input.string().trimmingCharacters(in: .whitespaces)
            guard v.isEmpty || v.split(separator: "/").count == 2 && !v.contains(" ") else {
                throw input.refused("must be an extended resource name like fluid.io/fuse, or empty")
            }
            return v
        }
    }

    /// A Kubernetes `major.minor` version (`1.30`, `v1.30.2`).
    static var kubernetesVersion: Self {
        Self { input in
            let v = try input.string()
            guard MutationConfig.hasNativeSidecars(version: v) != nil else {
                throw input.refused("must look like 1.30 (major.minor)")
            }
            return v
        }
    }
}

extension ConfigReader where Value == Int {
    /// A whole number in `range`.
    static func int(_ range: ClosedRange<Int>) -> Self {
        Self { input in
            guard let i = input.integer, range.contains(i) else {
                throw input.refused("must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return i
        }
    }
}

extension ConfigReader where Value == Double {
    /// A duration above 0.
    static var seconds: Self {
        Self { input in
            guard let d = input.number, d > 0, d.isFinite else { throw input.refused("must be a positive number of seconds") }
            return d
        }
    }

    /// A duration, 0 included.
    static var secondsOrZero: Self {
        Self { input in
            guard let d = input.number, d >= 0, d.isFinite else {
                throw input.refused("must be 0 or a positive number of seconds")
            }
            return d
        }
    }

    /// A scoring weight.
    static var weight: Self {
        Self { input in
            guard let d = input.number, d >= 0, d <= 1000 else { throw input.refused("must be a number in 0...1000") }
            return d
        }
    }
}

extension ConfigReader where Value == Bool {
    /// A YAML boolean, or `true`/`false`, `1`/`0`, `yes`/`no` in any case.
    static var bool: Self {
        Self { input in
            if let b = input.value as? Bool { return b }
            switch (input.value as? String)?.lowercased() {
            case "true", "1", "yes": return true
            case "false", "0", "no": return false
            default: throw input.refused("must be true or false")
            }
        }
    }
}

extension ConfigReader where Value == [String] {
    /// Absolute directories other than `/`, without `..`: a YAML list, or a comma-separated string.
    /// Empty entries are dropped.
    static var directories: Self {
        Self { input in
            let list =
                if let items = input.value as? [Any] {
                    items.map { "\($0)" }
                } else {
                    try input.string().split(separator: ",").map(String.init)
                }
            let directories = list.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for d in directories {
                let parts = d.split(separator: "/")
                guard d.hasPrefix("/"), !parts.isEmpty, !parts.contains("..") else {
                    let reason = "\"\(d)\" must be an absolute directory other than / and without '..'"
                    throw ConfigError("\(input.source): \(input.key): \(reason)")
                }
            }
            return directories
        }
    }
}

extension ConfigReader where Value: RawRepresentable & Sendable, Value.RawValue == String {
    /// One of `choices`, by its name in any case; a refusal lists them in this order.
    static func oneOf(_ choices: [Value]) -> Self {
        let names = choices.map(\.rawValue)
        let listed = names.count == 2 ? "\(names[0]) or \(names[1])" : "one of \(names.joined(separator: ", "))"
        return Self { input in
            let name = try input.string().lowercased()
            guard let v = Value(rawValue: name), names.contains(name) else {
                throw input.refused("must be \(listed)")
            }
            return v
        }
    }
}

extension ConfigReader where Value == WarmThreshold {
    /// A share of the dataset (`90%`) or bytes (`20Gi`).
    static var warmThreshold: Self {
        Self { input in
            guard let t = WarmThreshold(try input.string()) else {
                throw input.refused("must be a share like 90% or bytes like 20Gi")
            }
            return t
        }
    }
}
