import Foundation

/// Why a patch could not be applied.
public struct PatchError: Error, CustomStringConvertible, Equatable {
    public let description: String
}
