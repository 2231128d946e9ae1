import Foundation
import JSON
import Synchronization

/// Why a kubeconfig or in-cluster configuration could not be used. Messages name the file and
/// the field, and never contain credential material.
public struct KubeConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension KubeConfigError {
    /// The file's bytes (`FileAccess.read`), or a KubeConfigError saying which file and why not.
    static func reading(_ path: String, what: String) throws -> Data {
        do {
            return try FileAccess.read(path, what: what)
        } catch let error as FileAccessError {
            throw KubeConfigError(error.description)
        }
    }
}
