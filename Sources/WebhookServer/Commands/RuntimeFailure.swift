import ArgumentParser
import AsyncHTTPClient
import Foundation
import KubeClient
import Locality
import Logging
import Mutators
import ServiceLifecycle
import Yams

/// A failure while running (not the user's input): exit 1.
public struct RuntimeFailure: Error, CustomStringConvertible {
    public let description: String
}
