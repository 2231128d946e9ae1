import Foundation
public import JSON

/// A DaemonSet, reduced to what Locus copies from it: the pod template's containers and volumes,
/// kept as JSON so that no field of the container is lost.
public struct DaemonSet: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec?

    public struct Spec: Codable, Sendable, Hashable {
        public var template: Template?
    }
    public struct Template: Codable, Sendable, Hashable {
        public var spec: TemplateSpec?
    }
    public struct TemplateSpec: Codable, Sendable, Hashable {
        public var containers: [JSONValue]?
        public var volumes: [JSONValue]?
    }

    public init(metadata: ObjectMeta, spec: Spec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }

    /// The pod template's containers and volumes.
    public var containers: [JSONValue] { spec?.template?.spec?.containers ?? [] }
    public var volumes: [JSONValue] { spec?.template?.spec?.volumes ?? [] }
}
