import Foundation

/// A Kubernetes object Locus reads: decodable from the API server's JSON, tolerant of unknown fields.
public protocol KubeObject: Codable, Sendable {
    var metadata: ObjectMeta { get }
}
