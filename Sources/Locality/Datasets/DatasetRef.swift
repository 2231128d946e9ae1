import Foundation
import KubeClient

/// `namespace/name` of a dataset.
public struct DatasetRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Parses `name` (in `defaultNamespace`) or `namespace/name`; nil when malformed.
    public init?(parsing text: some StringProtocol, defaultNamespace: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: self.init(namespace: defaultNamespace, name: String(parts[0]))
        case 2: self.init(namespace: String(parts[0]), name: String(parts[1]))
        default: return nil
        }
        guard Self.isDNSLabel(namespace), Self.isDNSSubdomain(name) else { return nil }
    }

    public var description: String { "\(namespace)/\(name)" }
    public static func < (a: Self, b: Self) -> Bool { (a.namespace, a.name) < (b.namespace, b.name) }

    static func isDNSLabel(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 63 && s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
            && s.first != "-" && s.last != "-"
    }
    static func isDNSSubdomain(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 253 && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel(String($0)) }
    }
}

/// How a pod named a dataset.
public enum DatasetReference: Sendable, Hashable {
    /// A pod volume mounting the dataset's PVC.
    case volume(volume: String, claim: String)
    /// The `locus.dev/datasets` annotation (or Locus's own record of an earlier injection).
    case named(DatasetRef)
}
