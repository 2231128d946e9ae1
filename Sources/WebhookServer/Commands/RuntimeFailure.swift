import Foundation
import KubeClient
import Locality

/// A failure while running (not the user's input): exit 1.
public struct RuntimeFailure: Error, CustomStringConvertible {
    public let description: String
}
