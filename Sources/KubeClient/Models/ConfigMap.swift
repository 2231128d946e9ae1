import Foundation

/// A ConfigMap. The cluster's ConfigMaps are cached as metadata alone (`data` nil); the data of
/// the few a decision names is read by name (`ClusterCache.configMapData`).
public struct ConfigMap: KubeObject, Hashable {
    public var metadata: ObjectMeta
    public var data: [String: String]?

    /// No annotations: `kubectl apply` copies the whole data into one.
    public var retained: ConfigMap { ConfigMap(metadata: metadata.identityAndLabels, data: data) }

    public init(metadata: ObjectMeta, data: [String: String]? = nil) {
        self.metadata = metadata
        self.data = data
    }
}
