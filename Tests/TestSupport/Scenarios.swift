import Foundation
import JSON
import KubeClient
import Locality
import Mutators

@testable import WebhookServer

/// The built-in example cluster state, plus extra objects in the same YAML format.
/// The example cluster state, with `extra` objects added. `knowsDaemonSets: false` makes it a
/// cluster state without DaemonSets, whose FUSE sidecars are built from the runtimes' `spec.fuse`.
public func exampleCache(extra: String? = nil, knowsDaemonSets: Bool = true) throws -> ClusterCache {
    let cache = try ClusterStateFile(yaml: ExampleState.yaml, source: "example").makeClusterCache()
    if let extra {
        let more = try ClusterStateFile(yaml: extra, source: "extra")
        for o in more.datasets ?? [] { cache.datasets.upsert(o) }
        for o in more.runtimes ?? [] { cache.runtimes.upsert(o) }
        for o in more.persistentVolumeClaims ?? [] { cache.persistentVolumeClaims.upsert(o) }
        for o in more.persistentVolumes ?? [] { cache.persistentVolumes.upsert(o) }
        for o in more.configMaps ?? [] { cache.configMaps.upsert(o) }
        for o in more.namespaces ?? [] { cache.namespaces.upsert(o) }
        for o in more.daemonSets ?? [] { cache.daemonSets.upsert(o) }
    }
    if !knowsDaemonSets {
        _ = cache.daemonSets.replace(with: [])
        cache.knowsDaemonSets = false
    }
    return cache
}

public func podJSON(yaml: String) throws -> JSONValue { try YAMLBridge.parse(yaml, source: "test pod") }

public func policy(_ change: (inout AdmissionPolicy) -> Void = { _ in }) -> AdmissionPolicy {
    var p = AdmissionPolicy()
    change(&p)
    return p
}

public func decide(_ pod: JSONValue, namespace: String = "ml", cache: ClusterCache, policy: AdmissionPolicy = AdmissionPolicy())
    -> AdmissionResult
{
    Admission.review(pod: pod, namespace: namespace, uid: "test", catalog: cache, policy: policy)
}

/// A pod with one app container mounting `claims` (volume name = claim name) and the given labels/annotations.
public func makePod(
    name: String = "p", namespace: String = "ml", labels: [String: String] = ["locus.dev/inject": "true"],
    annotations: [String: String] = [:], claims: [String] = [], initContainer: Bool = false
) -> JSONValue {
    var meta: JSONObject = ["name": .string(name), "namespace": .string(namespace)]
    if !labels.isEmpty { meta["labels"] = .object(JSONObject(labels.mapValues { JSONValue.string($0) })) }
    if !annotations.isEmpty { meta["annotations"] = .object(JSONObject(annotations.mapValues { JSONValue.string($0) })) }
    var spec: JSONObject = [
        "containers": [
            [
                "name": "app", "image": "busybox:1.36",
                "volumeMounts": .array(claims.map { ["name": .string($0), "mountPath": .string("/data/\($0)")] }),
            ]
        ],
        "volumes": .array(claims.map { ["name": .string($0), "persistentVolumeClaim": ["claimName": .string($0)]] }),
    ]
    if initContainer { spec["initContainers"] = [["name": "prepare", "image": "busybox:1.36"]] }
    return ["apiVersion": "v1", "kind": "Pod", "metadata": .object(meta), "spec": .object(spec)]
}

/// Pods and policies covering every kind of mutation, for the idempotence and schema checks.
public enum MutationScenarios: Sendable {
    public static func all() throws -> [(name: String, pod: JSONValue, namespace: String, policy: AdmissionPolicy)] {
        let nativeSidecar = makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["imagenet"], initContainer: true)
        return [
            ("native sidecar", nativeSidecar, "ml", policy()),
            ("plain sidecar", nativeSidecar, "ml", policy { $0.mutation.nativeSidecars = false }),
            (
                "sidecar without mount check",
                makePod(
                    labels: ["serverless.fluid.io/inject": "true", "fuse.sidecar.poststart.fluid.io/inject": "false"],
                    claims: ["llama-weights"]),
                "ml", policy()
            ),
            (
                "serverful two datasets",
                makePod(labels: ["fuse.serverful.fluid.io/inject": "true"], claims: ["imagenet", "llama-weights"]), "ml", policy()
            ),
            ("vineyard by annotation", makePod(annotations: ["locus.dev/datasets": "features"]), "ml", policy()),
            (
                "everything",
                makePod(
                    labels: ["locus.dev/inject": "true"],
                    annotations: ["locus.dev/datasets": "features", "locus.dev/fuse-mode": "sidecar"],
                    claims: ["imagenet", "llama-weights"], initContainer: true), "ml", policy()
            ),
            ("no datasets", makePod(), "ml", policy()),
            (
                "namespace opt-in, shared dataset",
                makePod(namespace: "analytics", labels: [:], annotations: ["locus.dev/datasets": "ml/llama-weights"]),
                "analytics", policy()
            ),
            (
                "required affinity",
                makePod(labels: ["locus.dev/inject": "true", "fluid.io/dataset.imagenet.sched": "required"], claims: ["imagenet"]),
                "ml", policy()
            ),
            (
                "allow policy with a missing dataset", makePod(annotations: ["locus.dev/datasets": "features,nope"]), "ml",
                policy { $0.onFailure = .allow }
            ),
            (
                "env into app containers only", makePod(claims: ["imagenet"], initContainer: true), "ml",
                policy { $0.mutation.envIntoInitContainers = false }
            ),
        ]
    }
}

/// An AdmissionReview request as kube-apiserver sends it.
public func admissionReview(
    pod: JSONValue?, uid: String = "705ab4f5-6393-11e8-b7cc-42010a800002", apiVersion: String = "admission.k8s.io/v1",
    operation: String = "CREATE", kind: JSONValue = ["group": "", "version": "v1", "kind": "Pod"], namespace: String = "ml",
    dryRun: Bool = false
) -> [UInt8] {
    var request: JSONObject = [
        "uid": .string(uid), "kind": kind, "resource": ["group": "", "version": "v1", "resource": "pods"],
        "requestKind": kind, "requestResource": ["group": "", "version": "v1", "resource": "pods"],
        "namespace": .string(namespace), "operation": .string(operation),
        "userInfo": ["username": "system:serviceaccount:kube-system:job-controller", "groups": ["system:serviceaccounts"]],
        "dryRun": .bool(dryRun), "options": ["apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"],
    ]
    request["object"] = pod ?? .null
    let review: JSONValue = ["apiVersion": .string(apiVersion), "kind": "AdmissionReview", "request": .object(request)]
    return review.encodedBytes()
}

/// Datasets of every other FUSE engine (Jindo, GooseFS, EFC, Thin) and a runtime with its own
/// env, resources and security context, in the cluster-state format.
public let fuseKindsState = """
    datasets:
      - metadata: {name: jindo-set, namespace: ml}
        status: {phase: Bound, runtimes: [{name: jindo-set, namespace: ml, type: jindo}]}
      - metadata: {name: goose-set, namespace: ml}
        status: {phase: Bound, runtimes: [{name: goose-set, namespace: ml, type: goosefs}]}
      - metadata: {name: efc-set, namespace: ml}
        status: {phase: Bound, runtimes: [{name: efc-set, namespace: ml, type: efc}]}
      - metadata: {name: thin-set, namespace: ml}
        status: {phase: Bound, runtimes: [{name: thin-set, namespace: ml, type: thin}]}
      - metadata: {name: tuned, namespace: ml}
        status: {phase: Bound, runtimes: [{name: tuned, namespace: ml, type: alluxio}]}
      - metadata: {name: unprivileged, namespace: ml}
        status: {phase: Bound, runtimes: [{name: unprivileged, namespace: ml, type: juicefs}]}
      - metadata: {name: noescalation, namespace: ml}
        status: {phase: Bound, runtimes: [{name: noescalation, namespace: ml, type: juicefs}]}
      - metadata: {name: lookalike, namespace: ml}
        status: {phase: Bound, runtimes: [{name: llama-weights, namespace: ml, type: juicefs}]}
    runtimes:
      - kind: JindoRuntime
        metadata: {name: jindo-set, namespace: ml}
      - kind: GooseFSRuntime
        metadata: {name: goose-set, namespace: ml}
      - kind: EFCRuntime
        metadata: {name: efc-set, namespace: ml}
      - kind: ThinRuntime
        metadata: {name: thin-set, namespace: ml}
        spec: {fuse: {image: "example.com/my-fuse@sha256:0123", imageTag: ignored-with-a-digest}}
      - kind: AlluxioRuntime
        metadata: {name: tuned, namespace: ml}
        spec:
          fuse:
            image: example.com/alluxio-fuse
            imageTag: "2.9.4"
            imagePullPolicy: Always
            command: [/entrypoint.sh]
            env: [{name: ALLUXIO_FUSE_JAVA_OPTS, value: "-Xmx2g"}, {name: TOKEN, valueFrom: {secretKeyRef: {name: s3, key: token}}}]
            resources: {requests: {cpu: 500m, memory: 2Gi}, limits: {memory: 4Gi}}
            securityContext: {runAsUser: 0, seLinuxOptions: {type: spc_t}, capabilities: {add: [SYS_PTRACE, {not: a-name}], drop: [ALL]}}
      - kind: JuiceFSRuntime
        metadata: {name: unprivileged, namespace: ml}
        spec: {fuse: {securityContext: {privileged: false}}}
      - kind: JuiceFSRuntime
        metadata: {name: noescalation, namespace: ml}
        spec: {fuse: {securityContext: {allowPrivilegeEscalation: false}}}
    persistentVolumeClaims:
      - metadata: {name: jindo-set, namespace: ml, labels: {fluid.io/s-ml-jindo-set: "true"}}
      - metadata: {name: goose-set, namespace: ml, labels: {fluid.io/managed-by: fluid}}
      - metadata: {name: efc-set, namespace: ml, labels: {fluid.io/wrapped-by: fluid}}
      - metadata: {name: thin-set, namespace: ml, labels: {fluid.io/dataset-id: ml-thin-set, fluid.io/s-ml-thin-set: "true"}}
      - metadata: {name: tuned, namespace: ml, labels: {fluid.io/s-ml-tuned: "true"}}
      - metadata: {name: unprivileged, namespace: ml, labels: {fluid.io/s-ml-unprivileged: "true"}}
      - metadata: {name: noescalation, namespace: ml, labels: {fluid.io/s-ml-noescalation: "true"}}
      - metadata: {name: lookalike, namespace: ml}
    """
