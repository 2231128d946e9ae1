public import KubeClient
public import Synchronization

/// A dataset a pod uses, with everything needed to wire the pod to it.
///
/// What the catalog says of the dataset is kept in one shared, immutable storage, so the copies a
/// decision makes (every loop over a pod's datasets, every memoized resolution handed out) retain
/// one object instead of each string and array of the Dataset and its runtime.
public struct ResolvedDataset: Sendable {
    @usableFromInline final class Resolved: Sendable {
        @usableFromInline let ref: DatasetRef
        @usableFromInline let dataset: Dataset
        @usableFromInline let runtime: FluidRuntime
        @usableFromInline let kind: FluidRuntimeKind
        @usableFromInline let access: DataAccess
        @usableFromInline let envConfigMap: String?
        @usableFromInline let claim: String?
        /// Names every decision over a pod of this dataset spells (made once per resolution).
        @usableFromInline let refDescription: String
        @usableFromInline let schedulingLabel: String
        @usableFromInline let cacheNodeLabel: String
        @usableFromInline let fuseNodeLabel: String
        /// Values derived from this resolution alone by those who read it (see `derived`).
        @usableFromInline let derived = Mutex<[AnyObject]>([])

        init(
            ref: DatasetRef, dataset: Dataset, runtime: FluidRuntime, kind: FluidRuntimeKind, access: DataAccess, envConfigMap: String?,
            claim: String?
        ) {
            self.ref = ref
            self.dataset = dataset
            self.runtime = runtime
            self.kind = kind
            self.access = access
            self.envConfigMap = envConfigMap
            self.claim = claim
            refDescription = ref.description
            schedulingLabel = Keys.fluidSchedulingLabel(dataset: ref.name)
            cacheNodeLabel = Keys.fluidCacheNodeLabel(namespace: ref.namespace, name: ref.name, uid: dataset.metadata.uid)
            fuseNodeLabel = Keys.fluidFuseNodeLabel(namespace: ref.namespace, name: ref.name, uid: dataset.metadata.uid)
        }
    }

    @usableFromInline let resolved: Resolved
    /// Pod volumes that mount the dataset's PVC (empty for an annotation reference).
    public var volumes: [String]

    public init(
        ref: DatasetRef, dataset: Dataset, runtime: FluidRuntime, kind: FluidRuntimeKind, access: DataAccess, volumes: [String],
        envConfigMap: String?, claim: String?
    ) {
        resolved = Resolved(ref: ref, dataset: dataset, runtime: runtime, kind: kind, access: access, envConfigMap: envConfigMap, claim: claim)
        self.volumes = volumes
    }

    @inlinable public var ref: DatasetRef { resolved.ref }
    @inlinable public var dataset: Dataset { resolved.dataset }
    @inlinable public var runtime: FluidRuntime { resolved.runtime }
    @inlinable public var kind: FluidRuntimeKind { resolved.kind }
    @inlinable public var access: DataAccess { resolved.access }
    /// The env ConfigMap the dataset names (`locus.dev/env-configmap`), if any.
    @inlinable public var envConfigMap: String? { resolved.envConfigMap }
    /// The dataset's volume claim in the pod's namespace (Fluid names it after the dataset), if
    /// there is one: a pod can reach the data through it where hostPath is forbidden.
    @inlinable public var claim: String? { resolved.claim }

    public var engine: String { kind.engineType }

    /// `ref.description`: `namespace/name`.
    @inlinable public var refDescription: String { resolved.refDescription }
    /// The pod label that asks for this dataset's locality to be required (`Keys.fluidSchedulingLabel`).
    @inlinable public var schedulingLabel: String { resolved.schedulingLabel }
    /// The node label Fluid puts on nodes that hold this dataset's cache (`Keys.fluidCacheNodeLabel`).
    @inlinable public var cacheNodeLabel: String { resolved.cacheNodeLabel }
    /// The node label Fluid puts on nodes running this dataset's FUSE (`Keys.fluidFuseNodeLabel`).
    @inlinable public var fuseNodeLabel: String { resolved.fuseNodeLabel }

    /// The value `make` derives from this resolution and `key` (which must name everything else
    /// `make` reads), made at its first use and kept as long as the resolution is: the resolution
    /// memo hands the same resolution to every pod of a workload shape while the catalog is
    /// unchanged, so what a decision makes of a dataset alone (a FUSE sidecar from its template)
    /// is made once for them all. At most `derivedLimit` values are kept (then it starts over).
    @inlinable public func derived<Key: Equatable & Sendable, Value: Sendable>(_ key: Key, _ make: () -> Value) -> Value {
        let known: Value? = resolved.derived.withLock { entries in
            for entry in entries {
                if let entry = entry as? DerivedEntry<Key, Value>, entry.key == key { return entry.value }
            }
            return nil
        }
        if let known { return known }
        let made = make()
        let entry = DerivedEntry(key: key, value: made)
        resolved.derived.withLock { entries in
            if entries.count >= Self.derivedLimit { entries.removeAll() }
            entries.append(entry)
        }
        return made
    }

    public static let derivedLimit = 16

    /// One value `derived` keeps, with its key, in a class of their two types: finding it is a
    /// class check and the key's own `==` (a decision looks up a few of these for every pod, so
    /// no hashing, and no cast to a protocol, which reads the runtime's conformance tables).
    @usableFromInline final class DerivedEntry<Key: Equatable & Sendable, Value: Sendable>: Sendable {
        @usableFromInline let key: Key
        @usableFromInline let value: Value
        @usableFromInline init(key: Key, value: Value) {
            self.key = key
            self.value = value
        }
    }
}
