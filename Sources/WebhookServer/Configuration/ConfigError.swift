import Foundation
import KubeClient

/// Bad configuration: the command exits 2 with this one-line reason.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
