import Foundation

public struct ListMeta: Codable, Sendable, Hashable {
    public var resourceVersion: String?
    public var `continue`: String?
    public var remainingItemCount: Int64?
}

/// A list response: `{"kind": "...List", "metadata": {...}, "items": [...]}`.
public struct ObjectList<T: Decodable & Sendable>: Decodable, Sendable {
    public var kind: String?
    public var apiVersion: String?
    public var metadata: ListMeta
    public var items: [T]

    enum CodingKeys: String, CodingKey { case kind, apiVersion, metadata, items }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        metadata = try c.decodeIfPresent(ListMeta.self, forKey: .metadata) ?? ListMeta()
        // The API server sends `"items": null` for an empty list of some resources.
        items = try c.decodeIfPresent([T].self, forKey: .items) ?? []
    }

    public init(metadata: ListMeta, items: [T]) {
        self.metadata = metadata
        self.items = items
    }
}
