import Foundation

public enum WatchEventType: String, Codable, Sendable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
    case bookmark = "BOOKMARK"
    case error = "ERROR"
}

/// One event of a watch stream. `object` is set for ADDED/MODIFIED/DELETED, `status` for ERROR,
/// `resourceVersion` for every event that carries one (BOOKMARK included).
public struct WatchEvent<T: KubeObject>: Sendable {
    public var type: WatchEventType
    public var object: T?
    public var status: Status?
    public var resourceVersion: String?

    public init(type: WatchEventType, object: T? = nil, status: Status? = nil, resourceVersion: String? = nil) {
        self.type = type
        self.object = object
        self.status = status
        self.resourceVersion = resourceVersion ?? object?.metadata.resourceVersion
    }
}

struct EventEnvelope: Decodable {
    var type: WatchEventType
}
struct EventObject<T: Decodable>: Decodable {
    var object: T
}
struct MetadataOnly: Decodable {
    var metadata: ObjectMeta?
}
