import Foundation
import Synchronization

/// A watch abandoned because nothing arrived on it for `bound`.
public struct WatchSilence: Error, CustomStringConvertible {
    public let bound: Duration
    public var description: String { "no event or bookmark for \(bound); the connection is presumed dead" }
}
