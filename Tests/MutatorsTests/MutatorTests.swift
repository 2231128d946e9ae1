import Foundation
import JSON
import KubeClient
import Locality
import Mutators
import TestSupport
import Testing

@Suite("Admission decisions and pod mutations")
struct MutatorTests {
    func containers(_ pod: JSONValue?, _ key: String = "containers") -> [JSONValue] { pod?["spec"]?[key]?.arrayValue ?? [] }
    func volume(_ pod: JSONValue?, _ name: String) -> JSONValue? {
        pod?["spec"]?["volumes"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }
    func mount(_ container: JSONValue?, _ volume: String) -> JSONValue? {
        container?["volumeMounts"]?.arrayValue?.first { $0["name"]?.stringValue == volume }
    }

    // MARK: opt-in

    @Test func podsThatDoNotOptInAreNeverChanged() throws {
        let cache = try exampleCache()
        for labels in [
            [:], ["locus.dev/inject": "false"], ["locus.dev/inject": "true", "fluid.io/enable-injection": "false"],
            ["serverless.fluid.io/inject": "true", "done.sidecar.fluid.io/inject": "true"],
        ] {
            let r = decide(makePod(labels: labels, claims: ["imagenet"]), cache: cache)
            #expect(r.outcome == .skipped, "\(labels)")
            #expect(r.response.allowed && r.response.patch.isEmpty)
        }
        // Namespace opt-in: every pod of `analytics`, unless the pod says false.
        #expect(decide(makePod(namespace: "analytics", labels: [:]), namespace: "analytics", cache: cache).outcome == .mutated)
        #expect(
            decide(makePod(namespace: "analytics", labels: ["locus.dev/inject": "false"]), namespace: "analytics", cache: cache).outcome
                == .skipped)
    }

    // MARK: FUSE

    /// The sidecar is the first container of the runtime's FUSE DaemonSet, whole (args, env,
    /// envFrom, lifecycle, security context), with the volumes it mounts; the DaemonSet's mount
    /// point on the node becomes the pod's shared dataset volume.
    @Test func sidecarModeInjectsTheFuseDaemonSetsContainerAsANativeSidecar() throws {
        let r = decide(
            makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["imagenet"], initContainer: true), cache: try exampleCache())
        #expect(r.outcome == .mutated)
        #expect(r.engines == ["alluxio"])
        let inits = containers(r.pod, "initContainers")
        #expect(
            inits.map { $0["name"]?.stringValue } == ["locus-fuse-imagenet", "prepare"],
            "sidecar first, before init containers that read data")
        let sidecar = inits[0]
        #expect(sidecar["restartPolicy"] == "Always")
        #expect(sidecar["image"] == "fluidcloudnative/alluxio-fuse:2.9.0", "the DaemonSet container's image")
        #expect(sidecar["command"] == ["/entrypoint.sh"])
        #expect(sidecar["args"] == ["fuse", "--fuse-opts=kernel_cache,ro", "/runtime-mnt/alluxio/ml/imagenet/alluxio-fuse", "/"])
        #expect(sidecar["envFrom"] == [["configMapRef": ["name": "imagenet-config"]]], "the master's address, as Fluid's chart passes it")
        #expect(sidecar["env"]?[0]?["valueFrom"]?["fieldRef"]?["fieldPath"] == "status.hostIP")
        #expect(sidecar["lifecycle"]?["preStop"]?["exec"]?["command"]?[1] == "unmount", "the DaemonSet's preStop unmount")
        #expect(sidecar["resources"] == nil, "the DaemonSet's container names none, and none is made up")
        #expect(sidecar["securityContext"] == ["privileged": true, "capabilities": ["add": ["SYS_ADMIN"]]])
        #expect(
            mount(sidecar, "imagenet") == [
                "name": "imagenet", "mountPath": "/runtime-mnt/alluxio/ml/imagenet", "mountPropagation": "Bidirectional",
            ],
            "the shared volume where the DaemonSet mounts the node's mount point")
        #expect(mount(sidecar, "alluxio-fuse-device")?["mountPath"] == "/dev/fuse")
        #expect(
            volume(r.pod, "alluxio-fuse-device") == [
                "name": "alluxio-fuse-device", "hostPath": ["path": "/dev/fuse", "type": "CharDevice"],
            ])
        #expect(mount(sidecar, "mem") == nil && volume(r.pod, "mem") == nil, "cache tiers left out, as Fluid's webhook does")
        #expect(mount(containers(r.pod)[0], "imagenet")?["subPath"] == "alluxio-fuse", "the app reads fluid_path inside the shared volume")
        #expect(
            sidecar["startupProbe"]?["exec"]?["command"]?[2] == "grep -q ' /runtime-mnt/alluxio/ml/imagenet/alluxio-fuse fuse' /proc/mounts"
        )
        #expect(volume(r.pod, "imagenet") == ["name": "imagenet", "emptyDir": [:]], "the PVC volume became the shared mount point")
        #expect(mount(containers(r.pod)[0], "imagenet")?["mountPropagation"] == "HostToContainer")
        #expect(r.pod?["metadata"]?["annotations"]?["locus.dev/injected"] == "ml/imagenet=fuse-native-sidecar")
    }

    /// The sidecar is the runtime's FUSE container: env, resources and security context come
    /// from the runtime's `spec.fuse`, not from Locus's defaults.
    @Test func theRuntimesFuseSpecShapesTheSidecar() throws {
        let cache = try exampleCache(extra: Self.fuseKindsState, knowsDaemonSets: false)
        let r = decide(makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["tuned"]), cache: cache)
        #expect(r.outcome == .mutated, "\(r.response.message ?? "")")
        let sidecar = try #require(containers(r.pod, "initContainers").first)
        #expect(
            sidecar["env"] == [
                ["name": "ALLUXIO_FUSE_JAVA_OPTS", "value": "-Xmx2g"],
                ["name": "TOKEN", "valueFrom": ["secretKeyRef": ["name": "s3", "key": "token"]]],
            ])
        #expect(sidecar["resources"] == ["requests": ["cpu": "500m", "memory": "2Gi"], "limits": ["memory": "4Gi"]])
        #expect(sidecar["imagePullPolicy"] == "Always")
        #expect(sidecar["command"] == ["/entrypoint.sh"])
        #expect(
            sidecar["securityContext"] == [
                "runAsUser": 0, "seLinuxOptions": ["type": "spc_t"], "privileged": true,
                "capabilities": ["add": ["SYS_PTRACE", "SYS_ADMIN"]],
            ], "the runtime's own settings, privileged (Bidirectional needs it) with SYS_ADMIN; a drop list would be void")
    }

    /// A runtime whose FUSE must not be privileged cannot be a sidecar (Bidirectional propagation
    /// needs a privileged container): the pod is told why, and serverful mode still works.
    @Test(arguments: ["unprivileged", "noescalation"])
    func aRuntimeThatForbidsPrivilegeGetsNoSidecar(dataset: String) throws {
        let cache = try exampleCache(extra: Self.fuseKindsState, knowsDaemonSets: false)
        let pod = makePod(labels: ["serverless.fluid.io/inject": "true"], claims: [dataset])
        let denied = decide(pod, cache: cache)
        #expect(denied.outcome == .denied && !denied.response.allowed && denied.response.code == 403)
        let message = denied.response.message ?? ""
        #expect(
            message.contains("dataset ml/\(dataset): its runtime's spec.fuse.securityContext sets")
                && message.contains("use serverful mode (label fuse.serverful.fluid.io/inject=true)"), "\(message)")
        let allowed = decide(pod, cache: cache, policy: policy { $0.onFailure = .allow })
        #expect(allowed.outcome == .allowedWithProblems && allowed.response.allowed)
        #expect(
            containers(allowed.pod, "initContainers").isEmpty && volume(allowed.pod, dataset)?["persistentVolumeClaim"] != nil,
            "admitted without the sidecar, the PVC untouched")
        #expect(allowed.response.warnings.contains { $0.contains("Locus admitted the pod without this dataset: dataset ml/\(dataset)") })
        // With a dataset wired as well, the owner reads first what was wired, then what was not.
        let both = decide(
            makePod(labels: ["serverless.fluid.io/inject": "true"], claims: [dataset, "imagenet"]), cache: cache,
            policy: policy { $0.onFailure = .allow })
        #expect(both.response.warnings.first?.hasPrefix("Locus wired ml/imagenet") == true, "\(both.response.warnings)")
        #expect(both.response.warnings.count >= 2 && both.response.warnings[1].hasPrefix("Locus admitted the pod without this dataset"))
        let serverful = decide(makePod(labels: ["fuse.serverful.fluid.io/inject": "true"], claims: [dataset]), cache: cache)
        #expect(serverful.outcome == .mutated && mount(containers(serverful.pod)[0], dataset)?["mountPropagation"] == "HostToContainer")
    }

    /// Every FUSE engine Fluid has gets its sidecar: the image from the runtime or Fluid's chart
    /// default, mounted where Fluid's CSI plugin mounts that engine.
    @Test(arguments: [
        (
            "jindo-set", "jindo", "registry.cn-shanghai.aliyuncs.com/jindofs/jindo-fuse:6.2.0",
            "/runtime-mnt/jindo/ml/jindo-set/jindofs-fuse"
        ),
        ("goose-set", "goosefs", "ccr.ccs.tencentyun.com/qcloud/goosefs-fuse:v1.2.0", "/runtime-mnt/goosefs/ml/goose-set/goosefs-fuse"),
        ("efc-set", "efc", "registry.cn-zhangjiakou.aliyuncs.com/nascache/efc-fuse:v1.0.0", "/runtime-mnt/efc/ml/efc-set/efc-fuse"),
        ("thin-set", "thin", "example.com/my-fuse@sha256:0123", "/runtime-mnt/thin/ml/thin-set/thin-fuse"),
        ("tuned", "alluxio", "example.com/alluxio-fuse:2.9.4", "/runtime-mnt/alluxio/ml/tuned/alluxio-fuse"),
    ])
    func everyFuseEngineGetsItsSidecar(dataset: String, engine: String, image: String, mountPath: String) throws {
        let r = decide(
            makePod(labels: ["serverless.fluid.io/inject": "true"], claims: [dataset]),
            cache: try exampleCache(extra: Self.fuseKindsState, knowsDaemonSets: false))
        #expect(r.outcome == .mutated, "\(r.response.message ?? "")")
        #expect(r.engines == [engine])
        let sidecar = try #require(containers(r.pod, "initContainers").first)
        #expect(sidecar["name"] == .string("locus-fuse-\(dataset)") && sidecar["restartPolicy"] == "Always")
        #expect(sidecar["image"] == .string(image))
        #expect(
            mount(sidecar, dataset)?["mountPath"] == .string(mountPath) && mount(sidecar, dataset)?["mountPropagation"] == "Bidirectional")
        #expect(mount(containers(r.pod)[0], dataset)?["mountPropagation"] == "HostToContainer")
        #expect(r.pod?["metadata"]?["annotations"]?["locus.dev/injected"] == .string("ml/\(dataset)=fuse-native-sidecar"))
    }

    /// Runtimes of every FUSE kind, and PVCs marked the three ways Fluid marks a dataset PVC.
    static let fuseKindsState = TestSupport.fuseKindsState

    /// A PVC is a dataset reference when Fluid marked it so, by any of its three labels; an
    /// unmarked PVC that shares a dataset's name is not.
    @Test func fluidMarksDatasetPVCsThreeWays() throws {
        let cache = try exampleCache(extra: Self.fuseKindsState, knowsDaemonSets: false)
        let resolver = DatasetResolver(catalog: cache)
        for claim in ["jindo-set", "goose-set", "efc-set"] {
            #expect(resolver.isDatasetClaim(namespace: "ml", claim: claim), "\(claim)")
        }
        #expect(!resolver.isDatasetClaim(namespace: "ml", claim: "lookalike"))
        let r = decide(
            makePod(labels: ["fuse.serverful.fluid.io/inject": "true"], claims: ["goose-set", "efc-set", "lookalike"]), cache: cache)
        #expect(r.engines == ["efc", "goosefs"])
        #expect(mount(containers(r.pod)[0], "lookalike")?["mountPropagation"] == nil, "an ordinary PVC is left alone")
    }

    @Test func olderClustersGetAPlainFirstContainerWithAPostStartCheck() throws {
        let r = decide(
            makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["llama-weights"]), cache: try exampleCache(),
            policy: policy { $0.mutation.nativeSidecars = false })
        let c = containers(r.pod)
        #expect(c.map { $0["name"]?.stringValue } == ["locus-fuse-llama-weights", "app"])
        #expect(c[0]["restartPolicy"] == nil)
        #expect(c[0]["image"] == "juicedata/juicefs-fuse:ce-v1.1.0")
        let check = c[0]["lifecycle"]?["postStart"]?["exec"]?["command"]?[2]?.stringValue ?? ""
        #expect(check.contains("' /runtime-mnt/juicefs/ml/llama-weights/juicefs-fuse fuse'") && check.contains("-ge 120"), "\(check)")
        #expect(containers(r.pod, "initContainers").isEmpty)
        // Fluid's label turns the check off.
        let noCheck = decide(
            makePod(
                labels: ["serverless.fluid.io/inject": "true", "fuse.sidecar.poststart.fluid.io/inject": "false"], claims: ["llama-weights"]
            ),
            cache: try exampleCache(), policy: policy { $0.mutation.nativeSidecars = false })
        #expect(containers(noCheck.pod)[0]["lifecycle"]?["postStart"] == nil)
        #expect(containers(noCheck.pod)[0]["lifecycle"]?["preStop"] != nil, "the DaemonSet's preStop unmount stays")
    }

    /// A dataset whose `s-<namespace>-<name>` would pass 63 characters is labelled by Fluid with
    /// its UID (`fluid.io/s-<uid>`): the hints name that label, and the pod label that asks for
    /// required locality still names the dataset.
    @Test func aLongDatasetNameIsLabelledByItsUID() throws {
        let cache = try exampleCache()
        let name = "imagenet-" + String(repeating: "x", count: 55)
        var dataset = try #require(cache.datasets.get(namespace: "ml", name: "imagenet"))
        dataset.metadata.name = name
        dataset.metadata.uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
        dataset.metadata.resourceVersion = "9301"
        cache.datasets.upsert(dataset)
        func keys(_ r: AdmissionResult, _ kind: String) -> [String?] {
            let affinity = r.pod?["spec"]?["affinity"]?["nodeAffinity"]
            let terms =
                kind == "preferred"
                ? (affinity?["preferredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? []).map { $0["preference"] }
                : affinity?["requiredDuringSchedulingIgnoredDuringExecution"]?["nodeSelectorTerms"]?.arrayValue ?? []
            return terms.map { $0?["matchExpressions"]?[0]?["key"]?.stringValue }
        }
        let preferred = decide(makePod(labels: ["fuse.serverful.fluid.io/inject": "true"], claims: [name]), cache: cache)
        #expect(preferred.outcome == .mutated)
        #expect(keys(preferred, "preferred") == ["fluid.io/s-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"])
        let required = decide(
            makePod(labels: ["fuse.serverful.fluid.io/inject": "true", "fluid.io/dataset.\(name).sched": "required"], claims: [name]),
            cache: cache)
        #expect(keys(required, "required") == ["fluid.io/s-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"])
    }

    @Test func serverfulModeKeepsThePVCAndAddsPropagation() throws {
        let pod = makePod(labels: ["fuse.serverful.fluid.io/inject": "true"], claims: ["imagenet", "llama-weights"])
        let r = decide(pod, cache: try exampleCache())
        #expect(r.engines == ["alluxio", "juicefs"])
        #expect(volume(r.pod, "imagenet") == volume(pod, "imagenet"))
        #expect(containers(r.pod).count == 1 && containers(r.pod, "initContainers").isEmpty)
        #expect(mount(containers(r.pod)[0], "imagenet")?["mountPropagation"] == "HostToContainer")
        #expect(mount(containers(r.pod)[0], "llama-weights")?["mountPropagation"] == "HostToContainer")
        let preferred = r.pod?["spec"]?["affinity"]?["nodeAffinity"]?["preferredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? []
        #expect(
            preferred.compactMap { $0["preference"]?["matchExpressions"]?[0]?["key"]?.stringValue } == [
                "fluid.io/s-ml-imagenet", "fluid.io/s-ml-llama-weights",
            ])
        #expect(preferred.allSatisfy { $0["weight"] == 100 })
    }

    /// The runtime's `status.cacheAffinity` as Fluid writes it (its workers' node affinity, here
    /// from a Dataset pinned to zone-a of region-a, plus the FUSE preference) becomes Fluid's
    /// tiered-locality terms: cache nodes 100, zone 50, region 20. Asked-for required affinity
    /// adds only the cache-node level (Fluid's default), a pod's own zone term is left alone, and
    /// the output mutated again changes nothing.
    @Test func cacheAffinityBecomesFluidsTieredLocalityTerms() throws {
        let cache = try exampleCache()
        var runtime = try #require(cache.runtimes.get(namespace: "ml", name: "imagenet"))
        runtime.status?.cacheAffinity = try JSONValue.parse(
            Data(
                """
                {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-a"]},
                    {"key": "topology.kubernetes.io/region", "operator": "In", "values": ["region-a"]}]}]},
                 "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "preference": {"matchExpressions": [
                    {"key": "fluid.io/f-ml-imagenet", "operator": "In", "values": ["true"]}]}}]}
                """.utf8))
        runtime.metadata.resourceVersion = "9201"
        cache.runtimes.upsert(runtime)
        let r = decide(makePod(labels: ["fuse.serverful.fluid.io/inject": "true"], claims: ["imagenet"]), cache: cache)
        let nodeAffinity = r.pod?["spec"]?["affinity"]?["nodeAffinity"]
        #expect(
            nodeAffinity?["preferredDuringSchedulingIgnoredDuringExecution"] == [
                [
                    "weight": 100,
                    "preference": ["matchExpressions": [["key": "fluid.io/s-ml-imagenet", "operator": "In", "values": ["true"]]]],
                ],
                [
                    "weight": 50,
                    "preference": ["matchExpressions": [["key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-a"]]]],
                ],
                [
                    "weight": 20,
                    "preference": [
                        "matchExpressions": [["key": "topology.kubernetes.io/region", "operator": "In", "values": ["region-a"]]]
                    ],
                ],
            ])
        #expect(nodeAffinity?["requiredDuringSchedulingIgnoredDuringExecution"] == nil)
        #expect(
            r.explanations.contains { $0.text.contains("weight 50") && $0.text.contains("zone-a") && $0.text.contains("cacheAffinity") })
        #expect(decide(try #require(r.pod), cache: cache).response.patch.isEmpty, "reinvocation changes nothing")

        let required = decide(
            makePod(
                labels: ["fuse.serverful.fluid.io/inject": "true", "fluid.io/dataset.imagenet.sched": "required"], claims: ["imagenet"]),
            cache: cache)
        let req = required.pod?["spec"]?["affinity"]?["nodeAffinity"]
        #expect(
            req?["requiredDuringSchedulingIgnoredDuringExecution"] == [
                "nodeSelectorTerms": [["matchExpressions": [["key": "fluid.io/s-ml-imagenet", "operator": "In", "values": ["true"]]]]]
            ])
        #expect(req?["preferredDuringSchedulingIgnoredDuringExecution"] == nil)

        var own = makePod(labels: ["fuse.serverful.fluid.io/inject": "true"], claims: ["imagenet"])
        own["spec"]?["nodeSelector"] = ["topology.kubernetes.io/zone": "zone-b"]
        let kept =
            decide(own, cache: cache).pod?["spec"]?["affinity"]?["nodeAffinity"]?["preferredDuringSchedulingIgnoredDuringExecution"]?
            .arrayValue ?? []
        #expect(
            kept.compactMap { $0["preference"]?["matchExpressions"]?[0]?["key"]?.stringValue } == [
                "fluid.io/s-ml-imagenet", "topology.kubernetes.io/region",
            ])

        let custom = decide(
            makePod(labels: ["fuse.serverful.fluid.io/inject": "true"], claims: ["imagenet"]), cache: cache,
            policy: policy {
                $0.mutation.tieredLocality = .init(preferred: [("fluid.io/fuse", 80), ("topology.kubernetes.io/zone", 30)], required: [])
            })
        #expect(
            custom.pod?["spec"]?["affinity"]?["nodeAffinity"]?["preferredDuringSchedulingIgnoredDuringExecution"] == [
                [
                    "weight": 80,
                    "preference": ["matchExpressions": [["key": "fluid.io/f-ml-imagenet", "operator": "In", "values": ["true"]]]],
                ],
                [
                    "weight": 30,
                    "preference": ["matchExpressions": [["key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-a"]]]],
                ],
            ])
    }

    @Test func locusLabelFollowsTheConfiguredOrAnnotatedMode() throws {
        let cache = try exampleCache()
        let serverful = decide(makePod(claims: ["imagenet"]), cache: cache)
        #expect(volume(serverful.pod, "imagenet")?["persistentVolumeClaim"] != nil)
        let byConfig = decide(makePod(claims: ["imagenet"]), cache: cache, policy: policy { $0.mutation.defaultFuseMode = .sidecar })
        #expect(volume(byConfig.pod, "imagenet")?["emptyDir"] != nil)
        let byAnnotation = decide(makePod(annotations: ["locus.dev/fuse-mode": "sidecar"], claims: ["imagenet"]), cache: cache)
        #expect(volume(byAnnotation.pod, "imagenet")?["emptyDir"] != nil)
    }

    // MARK: shared memory and env

    @Test func vineyardGetsTheSocketFromTheRuntimeAndEnvFromItsConfigMap() throws {
        let cache = try exampleCache(
            extra: """
                runtimes:
                  - kind: VineyardRuntime
                    metadata: {name: features, namespace: ml, annotations: {locus.dev/socket-dir: /var/run/vineyard-kubernetes/ml/features}}
                """)
        let pod = makePod(annotations: ["locus.dev/datasets": "features"], claims: [])
        let r = decide(pod, cache: cache, policy: policy { $0.mutation.sharedMemoryMountPath = "/run/shm-socket" })
        #expect(r.engines == ["vineyard"])
        #expect(
            volume(r.pod, "locus-vineyard-features") == [
                "name": "locus-vineyard-features", "hostPath": ["path": "/var/run/vineyard-kubernetes/ml/features", "type": "Directory"],
            ])
        let app = containers(r.pod)[0]
        #expect(mount(app, "locus-vineyard-features")?["mountPath"] == "/run/shm-socket")
        #expect(app["env"] == [["name": "VINEYARD_IPC_SOCKET", "value": "/run/shm-socket/vineyard.sock"]])
        #expect(app["envFrom"] == [["configMapRef": ["name": "features-rpc-conf", "optional": true]]])
        let required = r.pod?["spec"]?["affinity"]?["nodeAffinity"]?["requiredDuringSchedulingIgnoredDuringExecution"]?["nodeSelectorTerms"]
        #expect(
            required == [["matchExpressions": [["key": "fluid.io/s-ml-features", "operator": "In", "values": ["true"]]]]],
            "a socket exists only where the engine runs")
    }

    @Test func requiredAffinityIsAddedToEveryExistingTerm() throws {
        var pod = makePod(annotations: ["locus.dev/datasets": "features"])
        let terms: JSONValue = [
            ["matchExpressions": [["key": "gpu", "operator": "Exists"]]], ["matchExpressions": [["key": "tpu", "operator": "Exists"]]],
        ]
        pod["spec"]?["affinity"] = ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": terms]]]
        let r = decide(pod, cache: try exampleCache())
        let out =
            r.pod?["spec"]?["affinity"]?["nodeAffinity"]?["requiredDuringSchedulingIgnoredDuringExecution"]?["nodeSelectorTerms"]?
            .arrayValue ?? []
        #expect(out.count == 2)
        #expect(out.allSatisfy { $0["matchExpressions"]?.arrayValue?.count == 2 })
    }

    /// The socket mount, its env and the env ConfigMaps reach every app container, not just the first.
    @Test func sharedMemoryAndEnvReachEveryAppContainer() throws {
        var pod = makePod(annotations: ["locus.dev/datasets": "features"], claims: ["imagenet"])
        pod["spec"]?["containers"] = [
            ["name": "app", "image": "busybox", "volumeMounts": [["name": "imagenet", "mountPath": "/data"]]],
            ["name": "sidekick", "image": "busybox", "env": [["name": "MINE", "value": "1"]]],
        ]
        let r = decide(pod, cache: try exampleCache())
        #expect(r.outcome == .mutated)
        let apps = containers(r.pod)
        #expect(apps.count == 2)
        for c in apps {
            #expect(mount(c, "locus-vineyard-features")?["mountPath"] == "/var/run/vineyard", "\(c["name"]?.stringValue ?? "")")
            #expect(c["env"]?.arrayValue?.contains(["name": "VINEYARD_IPC_SOCKET", "value": "/var/run/vineyard/vineyard.sock"]) == true)
            #expect(
                c["envFrom"] == [
                    ["configMapRef": ["name": "imagenet-env"]], ["configMapRef": ["name": "features-rpc-conf", "optional": true]],
                ])
        }
        #expect(apps[1]["env"]?[0] == ["name": "MINE", "value": "1"], "the container's own env is kept, first")
    }

    @Test func envConfigMapsReachAppAndInitContainersAsConfigured() throws {
        let cache = try exampleCache()
        let both = decide(makePod(claims: ["imagenet"], initContainer: true), cache: cache)
        #expect(containers(both.pod)[0]["envFrom"] == [["configMapRef": ["name": "imagenet-env"]]])
        #expect(containers(both.pod, "initContainers")[0]["envFrom"] == [["configMapRef": ["name": "imagenet-env"]]])
        let appOnly = decide(
            makePod(claims: ["imagenet"], initContainer: true), cache: cache, policy: policy { $0.mutation.envIntoInitContainers = false })
        #expect(containers(appOnly.pod, "initContainers")[0]["envFrom"] == nil)
    }

    @Test func podsWithoutDatasetsPreferNodesWithoutCaches() throws {
        let r = decide(makePod(), cache: try exampleCache())
        #expect(
            r.pod?["spec"]?["affinity"]?["nodeAffinity"]?["preferredDuringSchedulingIgnoredDuringExecution"] == [
                ["weight": 100, "preference": ["matchExpressions": [["key": "fluid.io/dataset-num", "operator": "DoesNotExist"]]]]
            ])
        let off = decide(makePod(), cache: try exampleCache(), policy: policy { $0.mutation.avoidCacheNodes = false })
        #expect(off.outcome == .unchanged && off.response.patch.isEmpty)
    }

    // MARK: reinvocation, names, unknown fields

    @Test func runningOnItsOwnOutputChangesNothing() throws {
        let cache = try exampleCache()
        for s in try MutationScenarios.all() {
            let first = decide(s.pod, namespace: s.namespace, cache: cache, policy: s.policy)
            let mutated = try #require(first.pod, "\(s.name)")
            #expect(!first.response.patch.isEmpty, "\(s.name): first pass changes the pod")
            let second = decide(mutated, namespace: s.namespace, cache: cache, policy: s.policy)
            #expect(second.response.patch.isEmpty, "\(s.name): \(JSONPatch.json(second.response.patch).jsonString)")
            #expect(try JSONPatch.apply(first.response.patch, to: s.pod) == mutated, "\(s.name): the patch is the diff")
        }
    }

    @Test func namesNeverCollideWithThePods() throws {
        var pod = makePod(
            labels: ["serverless.fluid.io/inject": "true"], annotations: ["locus.dev/datasets": "features"], claims: ["imagenet"])
        pod["spec"]?["containers"] = [
            ["name": "app", "image": "busybox", "volumeMounts": [["name": "imagenet", "mountPath": "/data"]]],
            ["name": "locus-fuse-imagenet", "image": "mine"],
        ]
        pod["spec"]?["volumes"] = [
            ["name": "imagenet", "persistentVolumeClaim": ["claimName": "imagenet"]], ["name": "locus-vineyard-features", "emptyDir": [:]],
        ]
        let r = decide(pod, cache: try exampleCache())
        let names = (containers(r.pod) + containers(r.pod, "initContainers")).compactMap { $0["name"]?.stringValue }
        #expect(Set(names).count == names.count)
        #expect(names.contains("locus-fuse-imagenet-2"))
        let vols = (r.pod?["spec"]?["volumes"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(Set(vols).count == vols.count && vols.contains("locus-vineyard-features-2"))
        // The user's own container keeps its image.
        #expect(containers(r.pod).first { $0["name"] == "locus-fuse-imagenet" }?["image"] == "mine")
    }

    @Test func unknownFieldsSurviveAndAreNeverNamedInThePatch() throws {
        var pod = makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["imagenet"])
        pod["spec"]?["futureField"] = ["nested": [1, 2.5, "x"]]
        pod["metadata"]?["managedFields"] = [["manager": "kubectl", "operation": "Update"]]
        pod["spec"]?["containers"] = [
            [
                "name": "app", "image": "busybox",
                "volumeMounts": [["name": "imagenet", "mountPath": "/d", "recursiveReadOnly": "IfPossible"]], "x-unknown": true,
            ]
        ]
        let r = decide(pod, cache: try exampleCache())
        #expect(r.outcome == .mutated)
        #expect(
            !r.response.patch.contains {
                $0.path.hasPrefix("/spec/futureField") || $0.path.hasPrefix("/metadata/managedFields") || $0.path.contains("x-unknown")
            })
        let patched = try JSONPatch.apply(r.response.patch, to: pod)
        #expect(patched["spec"]?["futureField"] == pod["spec"]?["futureField"])
        #expect(containers(patched).first { $0["name"] == "app" }?["x-unknown"] == true)
    }

    // MARK: denials

    @Test(arguments: [
        ("nope", "dataset ml/nope: no such Dataset"),
        ("secret/weights", "dataset secret/weights: it lives in namespace secret, which has not allowed namespace ml"),
        ("pending", "dataset ml/pending: not bound to a runtime yet (phase NotBound)"),
        ("exotic", "dataset ml/exotic: served by engine \"curvine\", which Locus does not support"),
        ("orphan", "dataset ml/orphan: its AlluxioRuntime ml/orphan does not exist"),
        ("Bad Name!", "annotation locus.dev/datasets: \"Bad Name!\" is not a dataset name or namespace/name"),
    ])
    func datasetsLocusCannotServeDenyThePodSayingWhy(reference: String, reason: String) throws {
        let cache = try exampleCache(extra: Self.troubleState)
        let pod = makePod(annotations: ["locus.dev/datasets": reference])
        let r = decide(pod, cache: cache)
        #expect(r.outcome == .denied)
        #expect(!r.response.allowed && r.response.code == 403)
        #expect(r.response.message?.contains(reason) == true, "\(r.response.message ?? "")")
        #expect(r.response.patch.isEmpty)
        // Where the operator chose so, the pod is admitted without that dataset, with the reason as a warning.
        let allowed = decide(pod, cache: cache, policy: policy { $0.onFailure = .allow })
        #expect(allowed.response.allowed && allowed.outcome == .allowedWithProblems)
        #expect(allowed.response.warnings.contains { $0.contains(reason) })
    }

    /// Without DaemonSets in the cluster state, a sidecar is built from `spec.fuse`, and a
    /// ThinRuntime naming no image (Thin has no default) cannot have one.
    @Test func aThinRuntimeWithoutImageGetsNoSidecarFromSpecFuse() throws {
        let cache = try exampleCache(extra: Self.troubleState, knowsDaemonSets: false)
        let r = decide(makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["thin"]), cache: cache)
        #expect(r.outcome == .denied)
        #expect(
            r.response.message?.contains("dataset ml/thin: its ThinRuntime ml/thin names no FUSE image in spec.fuse.image") == true,
            "\(r.response.message ?? "")")
        let serverful = decide(makePod(labels: ["fuse.serverful.fluid.io/inject": "true"], claims: ["thin"]), cache: cache)
        #expect(serverful.outcome == .mutated, "serverful mode needs no image: \(serverful.response.message ?? "")")
    }

    @Test func aThinPVCVolumeIsADatasetReference() throws {
        let r = decide(
            makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["thin"]), cache: try exampleCache(extra: Self.troubleState))
        #expect(r.outcome == .denied)
        // An ordinary PVC is no dataset and passes untouched.
        let plain = decide(
            makePod(labels: ["serverless.fluid.io/inject": "true"], claims: ["scratch"]), cache: try exampleCache(extra: Self.troubleState))
        #expect(plain.outcome == .mutated && plain.engines.isEmpty)
        #expect(volume(plain.pod, "scratch")?["persistentVolumeClaim"] != nil)
    }

    @Test func tenancyHoldsAgainstHostilePods() throws {
        let cache = try exampleCache(extra: Self.troubleState)
        // Naming another namespace's dataset that did not allow this namespace.
        #expect(decide(makePod(annotations: ["locus.dev/datasets": "secret/weights"]), cache: cache).outcome == .denied)
        // Smuggling Locus's own record to skip the checks: the record is checked like any reference.
        let smuggled = decide(makePod(annotations: ["locus.dev/injected": "secret/weights=fuse-serverful"]), cache: cache)
        #expect(smuggled.outcome == .denied)
        // A dataset that allowed the namespace is served.
        let shared = decide(
            makePod(namespace: "analytics", labels: [:], annotations: ["locus.dev/datasets": "ml/llama-weights"]), namespace: "analytics",
            cache: cache)
        #expect(shared.outcome == .mutated && shared.engines == ["juicefs"])
        // ...but its env ConfigMap (another namespace) is not, with a warning.
        let cm = try exampleCache(
            extra: """
                datasets:
                  - metadata: {name: llama-weights, namespace: ml, annotations: {locus.dev/shared-with: "*", locus.dev/env-configmap: llama-env}}
                    status: {phase: Bound, runtimes: [{name: llama-weights, namespace: ml, type: juicefs}]}
                """)
        let r = decide(
            makePod(namespace: "analytics", labels: [:], annotations: ["locus.dev/datasets": "ml/llama-weights"]), namespace: "analytics",
            cache: cm)
        #expect(r.outcome == .mutated)
        #expect(r.response.warnings.contains { $0.contains("llama-env") })
        #expect(containers(r.pod)[0]["envFrom"] == nil)
    }

    /// Runtimes are created by namespace users: one naming a host directory outside the engines'
    /// socket roots must not turn into a hostPath mount, and a pod cannot name one itself.
    @Test(arguments: [
        ("/", false), ("/etc", false), ("/runtime-mnt/vineyard/../../etc", false), ("/runtime-mnt/vineyardX/ml/f", false),
        ("/runtime-mnt/vineyard", false), ("/runtime-mnt/vineyard/./ml", false), ("relative/dir", false),
        ("/runtime-mnt/vineyard/ml/features", true), ("/var/run/vineyard-kubernetes/ml/features", true),
    ])
    func hostPathsStayInsideTheEnginesSocketRoots(directory: String, allowed: Bool) throws {
        let cache = try exampleCache(
            extra: """
                runtimes:
                  - kind: VineyardRuntime
                    metadata: {name: features, namespace: ml, annotations: {locus.dev/socket-dir: "\(directory)"}}
                """)
        let r = decide(makePod(annotations: ["locus.dev/datasets": "features"]), cache: cache)
        let hostPaths = (r.pod?["spec"]?["volumes"]?.arrayValue ?? []).compactMap { $0["hostPath"]?["path"]?.stringValue }
        if allowed {
            #expect(r.outcome == .mutated && hostPaths == [directory])
        } else {
            #expect(r.outcome == .denied && hostPaths.isEmpty, "\(directory): \(r.outcome)")
            #expect(
                r.response.message?.contains("not below an allowed socket root") == true
                    || r.response.message?.contains("absolute path") == true,
                "\(r.response.message ?? "")")
        }
    }

    @Test func aPodCannotRedirectTheSocketMount() throws {
        let cache = try exampleCache()
        // The pod names a socket directory itself and pre-declares a hostPath volume under Locus's own name.
        var pod = makePod(annotations: ["locus.dev/datasets": "features", "locus.dev/socket-dir": "/"])
        pod["spec"]?["volumes"] = [["name": "locus-vineyard-features", "hostPath": ["path": "/"]]]
        let r = decide(pod, cache: cache)
        #expect(r.outcome == .mutated)
        let volumes = r.pod?["spec"]?["volumes"]?.arrayValue ?? []
        let socket = try #require(volumes.first { $0["hostPath"]?["path"] == "/runtime-mnt/vineyard/ml/features" })
        #expect(socket["name"] != "locus-vineyard-features", "Locus's volume gets a name of its own")
        let mounted = Set(containers(r.pod)[0]["volumeMounts"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
        #expect(
            mounted.contains(socket["name"]?.stringValue ?? "") && !mounted.contains("locus-vineyard-features"),
            "the app mounts the engine's socket directory, never the pod's own hostPath /: \(mounted)")
    }

    static let troubleState = """
        datasets:
          - metadata: {name: weights, namespace: secret}
            status: {phase: Bound, runtimes: [{name: weights, namespace: secret, type: alluxio}]}
          - metadata: {name: pending, namespace: ml}
            status: {phase: NotBound}
          - metadata: {name: exotic, namespace: ml}
            status: {phase: Bound, runtimes: [{name: exotic, namespace: ml, type: curvine}]}
          - metadata: {name: thin, namespace: ml}
            status: {phase: Bound, runtimes: [{name: thin, namespace: ml, type: thin}]}
          - metadata: {name: orphan, namespace: ml}
            status: {phase: Bound, runtimes: [{name: orphan, namespace: ml, type: alluxio}]}
        runtimes:
          - kind: AlluxioRuntime
            metadata: {name: weights, namespace: secret}
          - kind: ThinRuntime
            metadata: {name: thin, namespace: ml}
            spec: {fuse: {args: ["-o", "ro"]}}
        persistentVolumeClaims:
          - metadata: {name: thin, namespace: ml, labels: {fluid.io/s-ml-thin: "true"}}
          - metadata: {name: scratch, namespace: ml}
        """
}
