import Foundation

/// The server's `/version` answer.
public struct ServerVersion: Codable, Sendable, Hashable {
    public var major: String
    public var minor: String
    public var gitVersion: String?

    /// The minor version as a number (`"29+"` → 29).
    public var minorNumber: Int? { Int(minor.filter(\.isNumber)) }
}
