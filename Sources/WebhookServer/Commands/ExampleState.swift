import Foundation
public import Locality

/// The built-in cluster state of `locus serve --example`: namespace `ml` with two FUSE datasets
/// (Alluxio, JuiceFS) and one shared-memory dataset (Vineyard), their runtimes and PVCs, and
/// three nodes in two zones; the FUSE DaemonSets Fluid renders for the FUSE runtimes; namespace
/// `analytics` opts all its pods in and may read `ml/llama-weights`. Same format as a
/// `--cluster-state` file.
public enum ExampleState {
    public static let yaml = """
        datasets:
          - metadata:
              name: imagenet
              namespace: ml
              uid: 6c1f0a43-0001-4b7e-9d0e-1a2b3c4d5e01
              resourceVersion: "101"
              annotations: {locus.dev/env-configmap: imagenet-env}
            spec:
              mounts: [{mountPoint: "s3://datasets/imagenet/", name: imagenet}]
              placement: Shared
            status:
              phase: Bound
              runtimes: [{name: imagenet, namespace: ml, type: alluxio, category: Accelerate}]
              cacheStates: {cacheCapacity: "120.00GiB", cached: "96.00GiB", cachedPercentage: "68.6%"}
              ufsTotal: "140.00GiB"
          - metadata:
              name: llama-weights
              namespace: ml
              uid: 6c1f0a43-0002-4b7e-9d0e-1a2b3c4d5e02
              resourceVersion: "102"
              annotations: {locus.dev/shared-with: analytics}
            spec:
              mounts: [{mountPoint: "juicefs:///models/llama", name: llama}]
            status:
              phase: Bound
              runtimes: [{name: llama-weights, namespace: ml, type: juicefs, category: Accelerate}]
              cacheStates: {cacheCapacity: "60.00GiB", cached: "26.00GiB", cachedPercentage: "100.0%"}
              ufsTotal: "26.00GiB"
          - metadata: {name: features, namespace: ml, uid: 6c1f0a43-0003-4b7e-9d0e-1a2b3c4d5e03, resourceVersion: "103"}
            spec:
              mounts: [{mountPoint: "local:///dev/shm/features", name: features}]
            status:
              phase: Bound
              runtimes: [{name: features, namespace: ml, type: vineyard, category: Accelerate}]
        runtimes:
          - kind: AlluxioRuntime
            apiVersion: data.fluid.io/v1alpha1
            metadata: {name: imagenet, namespace: ml, resourceVersion: "201"}
            spec:
              replicas: 2
              tieredstore:
                levels: [{mediumtype: MEM, path: /dev/shm, quota: 40Gi}, {mediumtype: SSD, path: /mnt/ssd, quota: 200Gi}]
              fuse: {image: fluidcloudnative/alluxio-fuse, imageTag: "2.9.0", args: ["fuse", "--fuse-opts=kernel_cache,ro"]}
            status: {workerPhase: Ready, fusePhase: Ready, workerNumberReady: 2}
          - kind: JuiceFSRuntime
            apiVersion: data.fluid.io/v1alpha1
            metadata: {name: llama-weights, namespace: ml, resourceVersion: "202"}
            spec:
              replicas: 1
              tieredstore:
                levels: [{mediumtype: SSD, path: /var/jfsCache, quota: 60Gi}]
              fuse: {image: juicedata/juicefs-fuse, imageTag: ce-v1.1.0}
            status: {workerPhase: Ready, fusePhase: Ready, workerNumberReady: 1}
          - kind: VineyardRuntime
            apiVersion: data.fluid.io/v1alpha1
            metadata: {name: features, namespace: ml, resourceVersion: "203"}
            spec:
              replicas: 2
              tieredstore:
                levels: [{mediumtype: MEM, quota: 8Gi}]
            status: {workerPhase: Ready, workerNumberReady: 2}
        persistentVolumeClaims:
          - metadata:
              name: imagenet
              namespace: ml
              resourceVersion: "301"
              labels: {fluid.io/s-ml-imagenet: "true", fluid.io/dataset-id: ml-imagenet}
              annotations: {CreatedBy: fluid}
            spec: {volumeName: ml-imagenet, storageClassName: fluid, accessModes: [ReadOnlyMany]}
            status: {phase: Bound}
          - metadata:
              name: llama-weights
              namespace: ml
              resourceVersion: "302"
              labels: {fluid.io/s-ml-llama-weights: "true", fluid.io/dataset-id: ml-llama-weights}
              annotations: {CreatedBy: fluid}
            spec: {volumeName: ml-llama-weights, storageClassName: fluid, accessModes: [ReadOnlyMany]}
            status: {phase: Bound}
        persistentVolumes:
          - metadata: {name: ml-imagenet, resourceVersion: "401"}
            spec:
              csi: {driver: fuse.csi.fluid.io, volumeHandle: ml-imagenet, volumeAttributes: {fluid_path: /runtime-mnt/alluxio/ml/imagenet/alluxio-fuse, mount_type: fuse.alluxio-fuse}}
              claimRef: {name: imagenet, namespace: ml}
          - metadata: {name: ml-llama-weights, resourceVersion: "402"}
            spec:
              csi: {driver: fuse.csi.fluid.io, volumeHandle: ml-llama-weights, volumeAttributes: {fluid_path: /runtime-mnt/juicefs/ml/llama-weights/juicefs-fuse, mount_type: fuse.juicefs}}
              claimRef: {name: llama-weights, namespace: ml}
        configMaps:
          - metadata: {name: features-rpc-conf, namespace: ml, resourceVersion: "501"}
            data: {VINEYARD_RPC_ENDPOINT: "features-worker-0.features-worker.ml:9600"}
          - metadata: {name: imagenet-env, namespace: ml, resourceVersion: "502"}
            data: {IMAGENET_ROOT: /data/imagenet, IMAGENET_FORMAT: jpeg}
          - metadata: {name: imagenet-config, namespace: ml, resourceVersion: "503"}
            data: {ALLUXIO_MASTER_HOSTNAME: imagenet-master-0.ml, ALLUXIO_MASTER_RPC_PORT: "19998"}
          - metadata: {name: llama-weights-fuse-script, namespace: ml, resourceVersion: "504"}
            data:
              script.sh: |
                #!/bin/bash
                set -e
                /usr/local/bin/juicefs format --no-update ${METAURL} llama
                exec /bin/mount.juicefs ${METAURL} /runtime-mnt/juicefs/ml/llama-weights/juicefs-fuse -o cache-dir=/var/jfsCache,metrics=0.0.0.0:14000
        # The runtimes' FUSE DaemonSets, as Fluid's alluxio and juicefs charts render them: a FUSE
        # sidecar is a copy of their first container and the volumes it mounts.
        daemonSets:
          - metadata:
              name: imagenet-fuse
              namespace: ml
              resourceVersion: "801"
              labels: {app: alluxio, release: imagenet, role: alluxio-fuse, fluid.io/managed-by: fluid, fluid.io/dataset-id: ml-imagenet}
            spec:
              template:
                spec:
                  hostNetwork: true
                  containers:
                    - name: alluxio-fuse
                      image: fluidcloudnative/alluxio-fuse:2.9.0
                      command: ["/entrypoint.sh"]
                      args: ["fuse", "--fuse-opts=kernel_cache,ro", "/runtime-mnt/alluxio/ml/imagenet/alluxio-fuse", "/"]
                      env:
                        - {name: ALLUXIO_CLIENT_HOSTNAME, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
                      envFrom: [{configMapRef: {name: imagenet-config}}]
                      securityContext: {privileged: true, capabilities: {add: [SYS_ADMIN]}}
                      lifecycle:
                        preStop: {exec: {command: ["/opt/alluxio/integration/fuse/bin/alluxio-fuse", "unmount", "/runtime-mnt/alluxio/ml/imagenet/alluxio-fuse"]}}
                      volumeMounts:
                        - {name: alluxio-fuse-device, mountPath: /dev/fuse}
                        - {name: alluxio-fuse-mount, mountPath: /runtime-mnt/alluxio/ml/imagenet, mountPropagation: Bidirectional}
                        - {name: mem, mountPath: /dev/shm}
                  volumes:
                    - {name: alluxio-fuse-device, hostPath: {path: /dev/fuse, type: CharDevice}}
                    - {name: alluxio-fuse-mount, hostPath: {path: /runtime-mnt/alluxio/ml/imagenet, type: DirectoryOrCreate}}
                    - {name: mem, hostPath: {path: /dev/shm, type: Directory}}
          - metadata:
              name: llama-weights-fuse
              namespace: ml
              resourceVersion: "802"
              labels: {app: juicefs, release: llama-weights, role: juicefs-fuse, fluid.io/managed-by: fluid, fluid.io/dataset-id: ml-llama-weights}
            spec:
              template:
                spec:
                  hostNetwork: true
                  containers:
                    - name: juicefs-fuse
                      image: juicedata/juicefs-fuse:ce-v1.1.0
                      command: ["sh", "/root/script/script.sh"]
                      env:
                        - {name: JFS_FOREGROUND, value: "1"}
                        - {name: METAURL, valueFrom: {secretKeyRef: {name: llama-weights-secret, key: metaurl}}}
                      ports: [{name: metrics, containerPort: 14000, hostPort: 14000, protocol: TCP}]
                      securityContext: {runAsUser: 0, privileged: true}
                      lifecycle:
                        preStop: {exec: {command: ["sh", "-c", "umount /runtime-mnt/juicefs/ml/llama-weights/juicefs-fuse"]}}
                      volumeMounts:
                        - {name: juicefs-fuse-mount, mountPath: /runtime-mnt/juicefs/ml/llama-weights, mountPropagation: Bidirectional}
                        - {name: script, mountPath: /root/script}
                        - {name: cache-dir-0, mountPath: /var/jfsCache}
                  volumes:
                    - {name: juicefs-fuse-mount, hostPath: {path: /runtime-mnt/juicefs/ml/llama-weights, type: DirectoryOrCreate}}
                    - {name: script, configMap: {name: llama-weights-fuse-script, defaultMode: 0755}}
                    - {name: cache-dir-0, hostPath: {path: /var/jfsCache, type: DirectoryOrCreate}}
        cache:
          # Per-node cache bytes as the engines would report them (with no cluster there is no engine to ask).
          - {node: node-a, dataset: ml/imagenet, memory: 40Gi, ssd: 16Gi}
          - {node: node-b, dataset: ml/imagenet, ssd: 40Gi}
          - {node: node-b, dataset: ml/llama-weights, ssd: 26Gi}
          - {node: node-a, dataset: ml/features, memory: 6Gi, sharedMemory: true}
          - {node: node-b, dataset: ml/features, memory: 2Gi, sharedMemory: true}
        namespaces:
          - metadata: {name: ml, resourceVersion: "701"}
          - metadata: {name: analytics, resourceVersion: "702", labels: {locus.dev/inject: "true"}}
        nodes:
          - metadata:
              name: node-a
              resourceVersion: "601"
              labels: {kubernetes.io/hostname: node-a, topology.kubernetes.io/zone: zone-1, fluid.io/s-ml-imagenet: "true", fluid.io/s-ml-features: "true", fluid.io/dataset-num: "2"}
            status: {conditions: [{type: Ready, status: "True"}], allocatable: {cpu: "32", memory: 256Gi}}
          - metadata:
              name: node-b
              resourceVersion: "602"
              labels: {kubernetes.io/hostname: node-b, topology.kubernetes.io/zone: zone-1, fluid.io/s-ml-imagenet: "true", fluid.io/s-ml-llama-weights: "true", fluid.io/s-ml-features: "true", fluid.io/dataset-num: "3"}
            status: {conditions: [{type: Ready, status: "True"}], allocatable: {cpu: "32", memory: 256Gi}}
          - metadata:
              name: node-c
              resourceVersion: "603"
              labels: {kubernetes.io/hostname: node-c, topology.kubernetes.io/zone: zone-2}
            status: {conditions: [{type: Ready, status: "True"}], allocatable: {cpu: "16", memory: 128Gi}}
        """

    /// The example, parsed and checked as a cluster-state file is.
    public static func clusterState() throws -> ClusterStateFile {
        try ClusterStateFile(yaml: yaml, source: "built-in example")
    }
}

extension ExampleState {
    /// The pod every example request carries: `ml/train`, opted in with Locus's label, reading
    /// `imagenet` (Alluxio) through a FUSE sidecar and `features` (Vineyard) over shared memory.
    static let pod =
        #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"train","namespace":"ml","labels":{"locus.dev/inject":"true"},"annotations":{"locus.dev/datasets":"features","locus.dev/fuse-mode":"sidecar"}},"spec":{"restartPolicy":"Never","containers":[{"name":"trainer","image":"pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime","command":["python","train.py","--data","/data/imagenet"],"volumeMounts":[{"name":"imagenet","mountPath":"/data/imagenet","readOnly":true}]}],"volumes":[{"name":"imagenet","persistentVolumeClaim":{"claimName":"imagenet"}}]}}"#

    /// Request bodies for `/mutate`, `/filter` and `/prioritize`, as kube-apiserver and
    /// kube-scheduler (`nodeCacheCapable: true`) send them, for the example state.
    public static let requests: [(file: String, route: String, body: String)] = [
        (
            "mutate.json", "/mutate",
            #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"0e3c6b8a-example-0001","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"ml","operation":"CREATE","object":"#
                + pod + #","dryRun":false}}"#
        ),
        ("filter.json", "/filter", #"{"Pod":"# + pod + #","Nodes":null,"NodeNames":["node-a","node-b","node-c"]}"#),
        ("prioritize.json", "/prioritize", #"{"Pod":"# + pod + #","Nodes":null,"NodeNames":["node-a","node-b"]}"#),
    ]

    /// Writes the request bodies into `directory` (created if needed).
    public static func writeRequests(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for r in requests {
            try Data(r.body.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(r.file))
        }
    }

    /// What `locus serve --example` prints once it listens: `curl` commands for every route.
    /// `caFile` is nil when the serving certificate was given (its CA is the user's).
    public static func tryIt(host: String, port: Int, caFile: String?, requestDirectory: String?) -> String {
        let base = "https://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        let ca = caFile.map { "--cacert \(shellQuoted($0))" } ?? "--cacert CA.pem"
        var lines = [
            "",
            "Locus is serving the built-in example cluster (namespace ml: imagenet on Alluxio, llama-weights on JuiceFS,",
            "features on Vineyard; nodes node-a, node-b, node-c) on \(base). Try it from another terminal:",
            "",
            "  curl \(ca) \(base)/readyz",
        ]
        if let dir = requestDirectory {
            let post = "curl \(ca) -H 'Content-Type: application/json'"
            lines += [
                "",
                "  # the webhook: pod ml/train asks for imagenet (FUSE sidecar) and features (Vineyard shared memory);",
                "  # the answer carries a base64 JSON patch (pipe it through: jq -r .response.patch | base64 -d | jq)",
                "  \(post) --data @\(shellQuoted(dir + "/mutate.json")) \(base)/mutate",
                "",
                "  # the scheduler extender: node-c is filtered out (no Vineyard there), then node-a outscores node-b",
                "  \(post) --data @\(shellQuoted(dir + "/filter.json")) \(base)/filter",
                "  \(post) --data @\(shellQuoted(dir + "/prioritize.json")) \(base)/prioritize",
            ]
        }
        lines += [
            "",
            "  # what an operator graphs",
            "  curl \(ca) \(base)/metrics",
            "",
            "Without a server: locus mutate POD.yaml --diff, locus score POD.yaml. Stop with Ctrl-C.",
            "",
        ]
        return lines.joined(separator: "\n")
    }

    static func shellQuoted(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "/._-+=:@,".contains($0) }
            ? s : "'" + s.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
