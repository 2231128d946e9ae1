import Foundation
import JSON
import KubeClient
import Locality
import TestSupport
import Testing

@testable import Mutators
@testable import WebhookServer

/// The FUSE sidecar as a copy of the runtime's FUSE DaemonSet, and what Pod Security allows.
extension MutatorTests {
    func juiceFSCache(namespaceLabels: [String: String] = [:]) throws -> ClusterCache {
        let state = FluidJuiceFS.clusterState(namespace: "team", name: "jfs")
        let cache = try ClusterStateFile(yaml: state, source: "test").makeClusterCache()
        cache.namespaces.upsert(Namespace(metadata: ObjectMeta(name: "team", labels: namespaceLabels)))
        return cache
    }

    func juiceFSPod(labels: [String: String] = ["serverless.fluid.io/inject": "true"]) -> JSONValue {
        FluidJuiceFS.appPod(namespace: "team", dataset: "jfs", labels: labels, command: "true")
    }

    /// Fluid's JuiceFS DaemonSet container, whole: mount script from its ConfigMap, METAURL from
    /// the Secret, the preStop unmount, the metrics port without the host port; the node's cache
    /// directory is left out as Fluid's webhook does, unless the pod keeps cache directories.
    @Test func theJuiceFSSidecarIsFluidsDaemonSetContainer() throws {
        var pod = juiceFSPod()
        pod["spec"]?["volumes"] = [["name": "data", "persistentVolumeClaim": ["claimName": "jfs"]], ["name": "script", "emptyDir": [:]]]
        let r = decide(pod, namespace: "team", cache: try juiceFSCache())
        #expect(r.outcome == .mutated, "\(r.response.message ?? "")")
        let sidecar = try #require(containers(r.pod, "initContainers").first)
        #expect(sidecar["command"] == ["sh", "/root/script/script.sh"])
        #expect(sidecar["env"]?[1] == ["name": "METAURL", "valueFrom": ["secretKeyRef": ["name": "jfs-secret", "key": "metaurl"]]])
        #expect(sidecar["lifecycle"]?["preStop"]?["exec"]?["command"]?[2] == "umount /runtime-mnt/juicefs/team/jfs/juicefs-fuse")
        #expect(sidecar["ports"] == [["containerPort": 14000, "name": "metrics", "protocol": "TCP"]], "no host port in an app pod")
        #expect(sidecar["securityContext"] == ["runAsUser": 0, "privileged": true, "capabilities": ["add": ["SYS_ADMIN"]]])
        // The pod already has a volume named `script`: the DaemonSet's is added under another name.
        #expect(mount(sidecar, "script-2")?["mountPath"] == "/root/script")
        #expect(volume(r.pod, "script-2") == ["name": "script-2", "configMap": ["name": "jfs-fuse-script", "defaultMode": 493]])
        #expect(volume(r.pod, "script") == ["name": "script", "emptyDir": [:]], "the pod's own volume is untouched")
        #expect(mount(sidecar, "cache-dir-0") == nil && volume(r.pod, "cache-dir-0") == nil)
        #expect(
            mount(sidecar, "data") == ["name": "data", "mountPath": "/runtime-mnt/juicefs/team/jfs", "mountPropagation": "Bidirectional"])
        #expect(volume(r.pod, "data") == ["name": "data", "emptyDir": [:]])
        #expect(
            mount(containers(r.pod)[0], "data") == [
                "name": "data", "mountPath": "/data", "readOnly": true, "mountPropagation": "HostToContainer", "subPath": "juicefs-fuse",
            ])
        #expect(r.explanations.contains { $0.text.contains("copied from the first container of FUSE DaemonSet team/jfs-fuse") })

        let kept = decide(
            juiceFSPod(labels: ["serverless.fluid.io/inject": "true", "cachedir.sidecar.fluid.io/inject": "true"]), namespace: "team",
            cache: try juiceFSCache())
        let keptSidecar = try #require(containers(kept.pod, "initContainers").first)
        #expect(mount(keptSidecar, "cache-dir-0")?["mountPath"] == "/var/jfsCache")
        #expect(volume(kept.pod, "cache-dir-0")?["hostPath"]?["path"] == "/var/jfsCache")
    }

    /// A runtime whose FUSE DaemonSet Fluid has not rendered yet: denied naming the DaemonSet, or
    /// admitted without the dataset and warned where the operator chose `onFailure: allow`.
    @Test func aMissingFuseDaemonSetIsNamedInTheDenial() throws {
        let cache = try juiceFSCache()
        _ = cache.daemonSets.replace(with: [])
        let denied = decide(juiceFSPod(), namespace: "team", cache: cache)
        #expect(denied.outcome == .denied)
        #expect(
            denied.response.message?.contains("dataset team/jfs: its FUSE DaemonSet team/jfs-fuse does not exist") == true,
            "\(denied.response.message ?? "")")
        let allowed = decide(juiceFSPod(), namespace: "team", cache: cache, policy: policy { $0.onFailure = .allow })
        #expect(
            allowed.outcome == .allowedWithProblems && allowed.response.warnings.contains { $0.contains("team/jfs-fuse does not exist") })
        // Serverful mode needs no DaemonSet copy.
        #expect(decide(juiceFSPod(labels: ["fuse.serverful.fluid.io/inject": "true"]), namespace: "team", cache: cache).outcome == .mutated)
    }

    /// A FUSE DaemonSet that exists without Fluid's `role` label (so Locus does not read it):
    /// the denial says what was found and what is missing, not that it does not exist.
    @Test func aFuseDaemonSetWithoutFluidsRoleLabelIsNamedAsFound() throws {
        let cache = try juiceFSCache()
        _ = cache.daemonSets.replace(with: [])
        cache.daemonSetHeaders.upsert(ObjectHeader(metadata: ObjectMeta(name: "jfs-fuse", namespace: "team", labels: ["app": "juicefs"])))
        let denied = decide(juiceFSPod(), namespace: "team", cache: cache)
        #expect(denied.outcome == .denied)
        let message = denied.response.message ?? ""
        #expect(
            message.contains(#"its FUSE DaemonSet team/jfs-fuse exists, but it has no role label, not "juicefs-fuse""#), "\(message)")
        #expect(!message.contains("does not exist"), "\(message)")
        cache.daemonSetHeaders.upsert(
            ObjectHeader(metadata: ObjectMeta(name: "jfs-fuse", namespace: "team", resourceVersion: "2", labels: ["role": "fuse"])))
        let relabelled = decide(juiceFSPod(), namespace: "team", cache: cache).response.message ?? ""
        #expect(relabelled.contains(#"its role label is "fuse", not "juicefs-fuse""#), "\(relabelled)")
    }

    /// A FUSE DaemonSet Locus cannot make a sidecar of: denied with what is wrong with it.
    @Test(arguments: [
        ("containers: []", "its FUSE DaemonSet team/jfs-fuse has no container to copy"),
        (
            "containers: [{name: fuse, image: x, volumeMounts: [{name: cache, mountPath: /var/cache}]}]",
            "its FUSE container mounts no volume at or above /runtime-mnt/juicefs/team/jfs/juicefs-fuse, where it mounts the dataset"
        ),
        (
            "containers: [{name: fuse, image: x, securityContext: {privileged: false}, volumeMounts: [{name: m, mountPath: "
                + "/runtime-mnt}]}]",
            "its FUSE DaemonSet team/jfs-fuse's container.securityContext sets privileged: false, but a FUSE sidecar must be a "
                + "privileged container"
        ),
    ])
    func aFuseDaemonSetWithoutAUsableContainerIsDenied(spec: String, reason: String) throws {
        let cache = try juiceFSCache()
        let ds = try ClusterStateFile(
            yaml: "daemonSets: [{metadata: {name: jfs-fuse, namespace: team}, spec: {template: {spec: {\(spec)}}}}]", source: "test")
        _ = cache.daemonSets.replace(with: ds.daemonSets ?? [])
        let r = decide(juiceFSPod(), namespace: "team", cache: cache)
        #expect(r.outcome == .denied && r.response.message?.contains("dataset team/jfs: \(reason)") == true, "\(r.response.message ?? "")")
    }

    /// A pod of another namespace cannot reach the ConfigMap and Secret the FUSE container reads
    /// (`ml/llama-weights` is shared with `analytics`): its sidecar is refused with the reason.
    @Test func aSidecarForAnotherNamespacesDatasetIsRefused() throws {
        let cache = try exampleCache()
        let pod = makePod(namespace: "analytics", labels: ["serverless.fluid.io/inject": "true"], claims: ["weights"])
        var d = try #require(
            DatasetResolver(catalog: cache).resolve([.named(DatasetRef(namespace: "ml", name: "llama-weights"))], podNamespace: "analytics")
                .datasets.first)
        d.volumes = ["weights"]
        let m = PodMutator.mutate(
            pod: pod, labels: ["serverless.fluid.io/inject": "true"], namespace: "analytics", datasets: [d],
            optIn: OptIn(fuseMode: .sidecar, via: "test"), config: MutationConfig())
        #expect(
            m.problems == [
                "dataset ml/llama-weights: its FUSE container (DaemonSet ml/llama-weights-fuse) reads ConfigMap "
                    + "llama-weights-fuse-script and Secret llama-weights-secret of namespace ml, which a pod in namespace analytics "
                    + "cannot reach; use serverful mode (label fuse.serverful.fluid.io/inject=true)"
            ])
        #expect(containers(m.pod, "initContainers").isEmpty)
    }

    /// Pod Security baseline forbids the privileged sidecar: Locus denies, naming the namespace's
    /// level, what breaks it, and the ways out, before the API server would refuse its patch.
    @Test(arguments: ["baseline", "restricted"])
    func aSidecarInAPodSecurityNamespaceIsDeniedWithTheReason(level: String) throws {
        let cache = try juiceFSCache(namespaceLabels: ["pod-security.kubernetes.io/enforce": level])
        let r = decide(juiceFSPod(), namespace: "team", cache: cache)
        #expect(r.outcome == .denied && r.response.code == 403)
        let message = r.response.message ?? ""
        #expect(
            message.contains(
                "dataset team/jfs: namespace team enforces Pod Security \(level):latest, which the FUSE sidecar for this dataset would "
                    + "break: "
            ), "\(message)")
        #expect(message.contains("init container locus-fuse-jfs sets securityContext.privileged=true"), "\(message)")
        #expect(
            message.contains("serverful mode (pod label fuse.serverful.fluid.io/inject=true")
                && message.contains("podSecurityFallback: serverful")
                && message.contains("pod-security.kubernetes.io/enforce=privileged"), "\(message)")
        // Serverful mode asks nothing of Pod Security and is admitted.
        let serverful = decide(juiceFSPod(labels: ["fuse.serverful.fluid.io/inject": "true"]), namespace: "team", cache: cache)
        #expect(
            serverful.outcome == .mutated
                && PodSecurity(level: .restricted).introducedViolations(before: juiceFSPod(), after: serverful.pod!).isEmpty)
    }

    /// With `podSecurityFallback: serverful`, the dataset is served through Fluid's CSI plugin
    /// instead, and the owner is told why.
    @Test func podSecurityFallbackServesTheDatasetServerful() throws {
        let cache = try juiceFSCache(namespaceLabels: ["pod-security.kubernetes.io/enforce": "baseline"])
        let r = decide(juiceFSPod(), namespace: "team", cache: cache, policy: policy { $0.mutation.podSecurityFallback = .serverful })
        #expect(r.outcome == .mutated)
        #expect(containers(r.pod, "initContainers").isEmpty && volume(r.pod, "data")?["persistentVolumeClaim"]?["claimName"] == "jfs")
        #expect(mount(containers(r.pod)[0], "data")?["mountPropagation"] == "HostToContainer")
        #expect(r.injections.map(\.how) == [.fuseServerful])
        #expect(
            r.response.warnings.contains {
                $0.hasPrefix(
                    "dataset team/jfs is served in serverful mode instead of a sidecar: namespace team enforces Pod Security "
                        + "baseline:latest"
                )
            })
        #expect(PodSecurity(level: .baseline).violations(of: r.pod!).isEmpty)
    }

    /// Fluid's unprivileged sidecar: not privileged, no SYS_ADMIN, /dev/fuse from the device
    /// plugin's resource, without the node's mount point; the dataset volume is a hostPath of the
    /// mount point as Fluid makes it, which baseline still forbids: Locus says so.
    @Test func theUnprivilegedLabelMakesFluidsUnprivilegedSidecar() throws {
        let labels = ["serverless.fluid.io/inject": "true", "unprivileged.sidecar.fluid.io/inject": "true"]
        let r = decide(juiceFSPod(labels: labels), namespace: "team", cache: try juiceFSCache())
        #expect(r.outcome == .mutated, "\(r.response.message ?? "")")
        let sidecar = try #require(containers(r.pod, "initContainers").first)
        #expect(sidecar["securityContext"] == ["runAsUser": 0, "privileged": false])
        #expect(sidecar["resources"] == ["limits": ["fluid.io/fuse": "1"], "requests": ["fluid.io/fuse": "1"]])
        #expect(mount(sidecar, "data") == nil, "no Bidirectional mount without privilege")
        #expect(volume(r.pod, "data") == ["name": "data", "hostPath": ["path": "/runtime-mnt/juicefs/team/jfs/juicefs-fuse"]])
        #expect(
            mount(containers(r.pod)[0], "data")?["mountPropagation"] == "HostToContainer"
                && mount(containers(r.pod)[0], "data")?["subPath"] == nil)
        #expect(r.injections.map(\.how) == [.fuseUnprivilegedSidecar])
        let custom = decide(
            juiceFSPod(labels: labels), namespace: "team", cache: try juiceFSCache(), policy: policy { $0.mutation.fuseDeviceResource = "" }
        )
        #expect(containers(custom.pod, "initContainers").first?["resources"] == nil)

        let baseline = decide(
            juiceFSPod(labels: labels), namespace: "team",
            cache: try juiceFSCache(namespaceLabels: ["pod-security.kubernetes.io/enforce": "baseline"]))
        #expect(
            baseline.outcome == .denied && baseline.response.message?.contains("volume data uses hostPath") == true,
            "\(baseline.response.message ?? "")")
    }

    /// Shared memory where hostPath is forbidden and the dataset has no claim: denied, saying why.
    @Test func sharedMemoryWithoutAClaimIsDeniedWhereHostPathIsForbidden() throws {
        let cache = try exampleCache()
        cache.namespaces.upsert(Namespace(metadata: ObjectMeta(name: "ml", labels: ["pod-security.kubernetes.io/enforce": "baseline"])))
        let r = decide(makePod(annotations: ["locus.dev/datasets": "features"]), cache: cache)
        #expect(r.outcome == .denied)
        #expect(
            r.response.message?.contains(
                "dataset ml/features: namespace ml enforces Pod Security baseline:latest, which forbids the hostPath volume that carries "
                    + "VineyardRuntime's socket, and the dataset has no volume claim in namespace ml"
            ) == true, "\(r.response.message ?? "")")
    }
}

@Suite("Pod Security levels")
struct PodSecurityTests {
    @Test func theNamespaceLabelsAreReadAsTheAdmissionPluginReadsThem() {
        #expect(PodSecurity(namespaceLabels: [:]) == PodSecurity(level: .privileged))
        #expect(PodSecurity(namespaceLabels: ["pod-security.kubernetes.io/enforce": "baseline"]).description == "baseline:latest")
        #expect(
            PodSecurity(namespaceLabels: [
                "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "v1.22",
            ]).description == "restricted:v1.22")
        let bad = PodSecurity(namespaceLabels: ["pod-security.kubernetes.io/enforce": "strict"])
        #expect(bad.level == .restricted && bad.labelProblem == "pod-security.kubernetes.io/enforce=strict is not a level")
        let badVersion = PodSecurity(namespaceLabels: [
            "pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "1.25",
        ])
        #expect(
            badVersion.level == .restricted && badVersion.labelProblem != nil,
            "the plugin enforces restricted:latest on an unreadable version")
    }

    @Test func baselineAndRestrictedChecks() throws {
        let pod = try podJSON(
            yaml: """
                spec:
                  hostNetwork: true
                  volumes: [{name: h, hostPath: {path: /x}}, {name: e, emptyDir: {}}, {name: n, nfs: {server: s, path: /}}]
                  containers:
                    - name: c
                      securityContext: {privileged: true, capabilities: {add: [SYS_ADMIN, CHOWN]}}
                      ports: [{containerPort: 80, hostPort: 8080}]
                    - name: ok
                      securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}, capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}
                """)
        #expect(PodSecurity(level: .privileged).violations(of: pod).isEmpty)
        #expect(
            PodSecurity(level: .baseline).violations(of: pod) == [
                "hostNetwork=true", "volume h uses hostPath", "container c sets securityContext.privileged=true",
                "container c adds non-default capabilities SYS_ADMIN", "container c uses hostPort 8080",
            ])
        let restricted = PodSecurity(level: .restricted).violations(of: pod)
        #expect(
            restricted.contains("volume n uses nfs") && restricted.contains("volume h uses hostPath")
                && !restricted.contains("volume e uses emptyDir"))
        #expect(
            restricted.contains("container c adds capabilities SYS_ADMIN, CHOWN")
                && restricted.contains("container c does not drop capabilities ALL"))
        #expect(
            restricted.contains("container c does not set allowPrivilegeEscalation=false")
                && restricted.contains("container c does not set runAsNonRoot=true"))
        #expect(restricted.contains("container c sets no seccompProfile RuntimeDefault or Localhost"))
        #expect(!restricted.contains { $0.hasPrefix("container ok ") }, "\(restricted)")
        // Before 1.22, restricted checks capabilities as baseline does.
        let old = PodSecurity(level: .restricted, minor: 21).violations(of: pod)
        #expect(
            old.contains("container c adds non-default capabilities SYS_ADMIN")
                && !old.contains("container c does not drop capabilities ALL"))
    }
}

@Suite("Names and paths of injected parts")
struct InjectedNameTests {
    /// A name the pod does not use yet, as a DNS label: a base that is one already stays as it is.
    @Test func uniqueNamesAreDNSLabelsNotTaken() {
        var taken: Set<String> = ["cache-dir", "data"]
        #expect(PodDraft.unique("fuse-device", taken: &taken) == "fuse-device")
        #expect(PodDraft.unique("cache-dir", taken: &taken) == "cache-dir-2")
        #expect(PodDraft.unique("cache-dir", taken: &taken) == "cache-dir-3")
        #expect(PodDraft.unique("Cache_Dir", taken: &taken) == "cache-dir-4")
        #expect(PodDraft.unique("trailing-", taken: &taken) == "trailing")
        #expect(PodDraft.unique(String(repeating: "a", count: 63), taken: &taken) == String(repeating: "a", count: 63))
        #expect(PodDraft.unique(String(repeating: "b", count: 64), taken: &taken) == String(repeating: "b", count: 63))
        #expect(PodDraft.unique(String(repeating: "a", count: 63), taken: &taken) == String(repeating: "a", count: 61) + "-2")
        #expect(taken.isSuperset(of: ["fuse-device", "cache-dir-2", "cache-dir-3", "cache-dir-4", "trailing"]))
    }

    /// A path is at or below an ancestor by whole components.
    @Test func pathsAtOrBelowAnAncestor() {
        #expect(PodDraft.path("/runtime-mnt/juicefs/team/jfs/juicefs-fuse", isAtOrBelow: "/runtime-mnt/juicefs/team/jfs"))
        #expect(PodDraft.path("/runtime-mnt/juicefs", isAtOrBelow: "/runtime-mnt/juicefs/"))
        #expect(PodDraft.path("/runtime-mnt/juicefs", isAtOrBelow: "/runtime-mnt/juicefs"))
        #expect(PodDraft.path("/anything", isAtOrBelow: "/"))
        #expect(!PodDraft.path("/runtime-mnt/juicefs2", isAtOrBelow: "/runtime-mnt/juicefs"))
        #expect(!PodDraft.path("/runtime-mnt", isAtOrBelow: "/runtime-mnt/juicefs"))
    }
}
