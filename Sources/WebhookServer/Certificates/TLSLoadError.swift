import Foundation
import HummingbirdCore
import KubeClient
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// Why a certificate/key pair could not be loaded.
public struct TLSLoadError: Error, CustomStringConvertible {
    public let description: String
}
