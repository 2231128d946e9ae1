import Foundation

/// A Kubernetes object Locus reads: decodable from the API server's JSON, tolerant of unknown fields.
public protocol KubeObject: Codable, Sendable {
    var metadata: ObjectMeta { get }
    /// What an informer's store keeps of the object: the fields Locus reads. A kind whose objects
    /// carry much that no decision reads (a node's annotations, a ConfigMap's
    /// `last-applied-configuration`) drops it here, so the cache grows with what Locus uses.
    var retained: Self { get }
}

extension KubeObject {
    public var retained: Self { self }
}

extension ObjectMeta {
    /// The identity, the version and the labels: what a store keeps of an object whose
    /// annotations, owners and timestamps no decision reads.
    public var identityAndLabels: ObjectMeta {
        ObjectMeta(name: name, namespace: namespace, uid: uid, resourceVersion: resourceVersion, labels: labels)
    }
}
