import Foundation
import KubeClient
import Synchronization

/// Why a certificate/key pair could not be loaded.
public struct TLSLoadError: Error, CustomStringConvertible {
    public let description: String
}
