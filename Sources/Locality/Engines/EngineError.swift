import Foundation
import KubeClient

/// Why an engine cannot serve a pod.
public struct EngineError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
