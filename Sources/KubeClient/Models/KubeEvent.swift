import Foundation

/// A core/v1 `Event` about one object, as `kubectl describe` shows it.
public struct KubeEvent: KubeObject {
    public var apiVersion: String? = "v1"
    public var kind: String? = "Event"
    public var metadata: ObjectMeta
    public var involvedObject: Reference
    /// CamelCase, short: `WarmUpStarted`.
    public var reason: String
    public var message: String
    /// `Normal` or `Warning`.
    public var type: String
    public var source: Source?
    public var firstTimestamp: String?
    public var lastTimestamp: String?
    public var count: Int?
    public var reportingComponent: String?
    public var reportingInstance: String?

    public struct Reference: Codable, Sendable {
        public var apiVersion: String?
        public var kind: String?
        public var namespace: String?
        public var name: String?
        public var uid: String?

        public init(apiVersion: String?, kind: String?, namespace: String?, name: String?, uid: String?) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.namespace = namespace
            self.name = name
            self.uid = uid
        }
    }
    public struct Source: Codable, Sendable {
        public var component: String?
    }

    public init(
        metadata: ObjectMeta, involvedObject: Reference, reason: String, message: String, type: String, component: String,
        instance: String, at timestamp: String
    ) {
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.type = type
        source = Source(component: component)
        firstTimestamp = timestamp
        lastTimestamp = timestamp
        count = 1
        reportingComponent = component
        reportingInstance = instance
    }
}
