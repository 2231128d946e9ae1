import Foundation
import Locality

/// A request kube-scheduler sent that cannot be read; the reason goes back in `Error`.
public struct ExtenderRequestError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(description: String) { self.description = description }
}
