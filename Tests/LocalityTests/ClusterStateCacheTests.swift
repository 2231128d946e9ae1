import Foundation
import KubeClient
import Locality
import TestSupport
import Testing

@testable import WebhookServer

@Suite("Cluster-state caches")
struct ClusterStateCacheTests {
    /// `compact()` lays the objects out anew after the YAML parse: every store keeps exactly the
    /// same objects, and lookups still find them.
    @Test func compactingKeepsEveryObject() throws {
        let cache = try ExampleState.clusterState().makeClusterCache()
        func sorted<T: KubeObject & Hashable>(_ store: Store<T>) -> [T] { store.list().sorted { $0.metadata.key < $1.metadata.key } }
        let before = (
            sorted(cache.persistentVolumeClaims), sorted(cache.persistentVolumes), sorted(cache.datasets), sorted(cache.runtimes),
            sorted(cache.nodes), sorted(cache.configMaps), sorted(cache.namespaces)
        )
        #expect(!before.0.isEmpty && !before.2.isEmpty && !before.3.isEmpty && !before.4.isEmpty)
        try cache.compact()
        #expect(sorted(cache.persistentVolumeClaims) == before.0)
        #expect(sorted(cache.persistentVolumes) == before.1)
        #expect(sorted(cache.datasets) == before.2)
        #expect(sorted(cache.runtimes) == before.3)
        #expect(sorted(cache.nodes) == before.4)
        #expect(sorted(cache.configMaps) == before.5)
        #expect(sorted(cache.namespaces) == before.6)
        let someNode = try #require(before.4.first { ($0.metadata.labels ?? [:]).values.contains("true") })
        let label = try #require(someNode.metadata.labels?.first { $0.value == "true" }?.key)
        #expect(cache.nodeNames(labelledTrue: label).contains(someNode.metadata.name ?? ""), "the label index is rebuilt")
    }
}
