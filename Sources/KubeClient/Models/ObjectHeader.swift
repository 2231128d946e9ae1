import Foundation

/// An object known by its metadata alone (a `PartialObjectMetadata` item): its name, version and
/// labels. Used where Locus needs to know that an object exists and how it is labelled, not what
/// it holds.
public struct ObjectHeader: KubeObject, Hashable {
    public var metadata: ObjectMeta

    public init(metadata: ObjectMeta) { self.metadata = metadata }

    public var retained: ObjectHeader { ObjectHeader(metadata: metadata.identityAndLabels) }
}
