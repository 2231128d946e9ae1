import Foundation
import JSON
import KubeClient
import Locality
import Mutators
import SchedulerExtender
import WebhookServer

/// A cluster state of `--datasets` Alluxio datasets (1,000), their runtimes, `--pvcs` claims and
/// volumes (10,000) and `--daemonsets` FUSE DaemonSets, as YAML on stdout.
func state(_ args: [String]) {
    let pvcs = argument("--pvcs", args).flatMap(Int.init) ?? 10_000
    let datasets = argument("--datasets", args).flatMap(Int.init) ?? 1_000
    let daemonSets = argument("--daemonsets", args).flatMap(Int.init) ?? datasets
    var out = stateDatasets(datasets) + stateClaims(pvcs, datasets: datasets)
    out += "namespaces:\n"
    for n in 0..<50 { out += "  - metadata: {name: ns-\(n)}\n" }
    out += stateFuseDaemonSets(daemonSets)
    print(out, terminator: "")
}

/// The datasets and their runtimes.
func stateDatasets(_ datasets: Int) -> String {
    var out = "datasets:\n"
    for d in 0..<datasets {
        out += "  - metadata: {name: ds-\(d), namespace: ns-\(d % 50), uid: uid-\(d)}\n"
        out += "    spec: {mounts: [{mountPoint: \"s3://bucket/ds-\(d)/\", name: ds-\(d)}]}\n"
        out +=
            "    status: {phase: Bound, runtimes: [{name: ds-\(d), namespace: ns-\(d % 50), type: alluxio}], cacheStates: {cached: "
            + "\"10.00GiB\", cacheCapacity: \"20.00GiB\"}}\n"
    }
    out += "runtimes:\n"
    for d in 0..<datasets {
        out +=
            "  - {kind: AlluxioRuntime, metadata: {name: ds-\(d), namespace: ns-\(d % 50)}, spec: {replicas: 2, fuse: {image: "
            + "fluidcloudnative/alluxio-fuse, imageTag: \"2.9.0\"}}}\n"
    }
    return out
}

/// The dataset claims and their volumes on Fluid's CSI driver.
func stateClaims(_ pvcs: Int, datasets: Int) -> String {
    var out = ""
    out += "persistentVolumeClaims:\n"
    for p in 0..<pvcs {
        let d = p % datasets
        out +=
            "  - metadata: {name: pvc-\(p), namespace: ns-\(d % 50), labels: {fluid.io/s-ns-\(d % 50)-ds-\(d): \"true\", "
            + "fluid.io/dataset-id: ns-\(d % 50)-ds-\(d)}, annotations: {CreatedBy: fluid}}\n"
        out += "    spec: {volumeName: ns-\(d % 50)-pvc-\(p), storageClassName: fluid, accessModes: [ReadOnlyMany]}\n"
        out += "    status: {phase: Bound}\n"
    }
    out += "persistentVolumes:\n"
    for p in 0..<pvcs {
        let d = p % datasets
        out += "  - metadata: {name: ns-\(d % 50)-pvc-\(p)}\n"
        out +=
            "    spec: {csi: {driver: fuse.csi.fluid.io, volumeHandle: ns-\(d % 50)-pvc-\(p), volumeAttributes: {fluid_path: "
            + "/runtime-mnt/alluxio/ns-\(d % 50)/ds-\(d)/alluxio-fuse, mount_type: fuse.alluxio-fuse}}}\n"
    }
    return out
}

/// Each runtime's FUSE DaemonSet, shaped as Fluid's alluxio chart renders it.
func stateFuseDaemonSets(_ daemonSets: Int) -> String {
    var out = ""
    out += "daemonSets:\n"
    for d in 0..<daemonSets {
        let ns = "ns-\(d % 50)"
        let root = "/runtime-mnt/alluxio/ns-\(d % 50)/ds-\(d)"
        out +=
            "  - metadata: {name: ds-\(d)-fuse, namespace: \(ns), labels: {app: alluxio, release: ds-\(d), role: alluxio-fuse, "
            + "fluid.io/managed-by: fluid, fluid.io/dataset-id: \(ns)-ds-\(d)}}\n"
        out +=
            "    spec: {template: {spec: {hostNetwork: true, containers: [{name: alluxio-fuse, image: "
            + "fluidcloudnative/alluxio-fuse:2.9.0, command: [/entrypoint.sh], args: [fuse, \"--fuse-opts=kernel_cache,ro\", "
            + "\(root)/alluxio-fuse, /], "
        out +=
            "env: [{name: ALLUXIO_CLIENT_HOSTNAME, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}], envFrom: [{configMapRef: {name: "
            + "ds-\(d)-config}}], securityContext: {privileged: true, capabilities: {add: [SYS_ADMIN]}}, "
        out += "lifecycle: {preStop: {exec: {command: [/opt/alluxio/integration/fuse/bin/alluxio-fuse, unmount, \(root)/alluxio-fuse]}}}, "
        out +=
            "volumeMounts: [{name: alluxio-fuse-device, mountPath: /dev/fuse}, {name: alluxio-fuse-mount, mountPath: \(root), "
            + "mountPropagation: Bidirectional}, {name: mem, mountPath: /dev/shm}]}], "
        out +=
            "volumes: [{name: alluxio-fuse-device, hostPath: {path: /dev/fuse, type: CharDevice}}, {name: alluxio-fuse-mount, hostPath: "
            + "{path: \(root), type: DirectoryOrCreate}}, {name: mem, hostPath: {path: /dev/shm, type: Directory}}]}}}\n"
    }
    return out
}

/// A cluster state for the extender benchmark: `nodes` nodes, 4 datasets (one Vineyard), each
/// cached on a quarter of the nodes; and the two request bodies.
func extenderFixtures(_ args: [String]) throws {
    let nodes = argument("--nodes", args).flatMap(Int.init) ?? 5000
    let fullNodes = argument("--full-nodes", args).flatMap(Int.init) ?? 1000
    guard let dir = argument("--out", args) else { fail("--out DIR is required") }
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let datasets = ["train-a", "train-b", "weights", "features"]
    let state = extenderState(nodes: nodes, datasets: datasets)
    try state.write(toFile: "\(dir)/state.yaml", atomically: true, encoding: .utf8)
    let pod: [String: Any] = [
        "apiVersion": "v1", "kind": "Pod",
        "metadata": ["name": "reader", "namespace": "ml", "annotations": ["locus.dev/datasets": datasets.joined(separator: ",")]],
        "spec": ["containers": [["name": "app", "image": "busybox"]]],
    ]
    let names: [String: Any] = ["Pod": pod, "Nodes": NSNull(), "NodeNames": (0..<nodes).map { "node-\($0)" }]
    try JSONSerialization.data(withJSONObject: names).write(to: URL(fileURLWithPath: "\(dir)/prioritize-names.json"))
    let items = fullNodeObjects(fullNodes)
    let full: [String: Any] = [
        "Pod": pod, "Nodes": ["kind": "NodeList", "apiVersion": "v1", "metadata": [:], "items": items], "NodeNames": NSNull(),
    ]
    try JSONSerialization.data(withJSONObject: full).write(to: URL(fileURLWithPath: "\(dir)/filter-full.json"))
}

/// The extender benchmark's cluster state: `nodes` nodes, each of `datasets` cached on a quarter
/// of them (the Vineyard one, `features`, on every node's labels), with per-node figures.
func extenderState(nodes: Int, datasets: [String]) -> String {
    var state = "datasets:\n"
    for (i, d) in datasets.enumerated() {
        let type = d == "features" ? "vineyard" : ["alluxio", "juicefs", "jindo"][i % 3]
        state +=
            "  - metadata: {name: \(d), namespace: ml}\n    status: {phase: Bound, runtimes: [{name: \(d), namespace: ml, type: "
            + "\(type)}]}\n"
    }
    state += "runtimes:\n"
    for (i, d) in datasets.enumerated() {
        let kind = d == "features" ? "VineyardRuntime" : ["AlluxioRuntime", "JuiceFSRuntime", "JindoRuntime"][i % 3]
        state += "  - {kind: \(kind), metadata: {name: \(d), namespace: ml}, spec: {fuse: {image: example/fuse}}}\n"
    }
    state += "nodes:\n"
    for n in 0..<nodes {
        var labels = "kubernetes.io/hostname: node-\(n)"
        for (i, d) in datasets.enumerated() where n % 4 == i || d == "features" { labels += ", fluid.io/s-ml-\(d): \"true\"" }
        state += "  - metadata: {name: node-\(n), labels: {\(labels)}}\n"
    }
    state += "cache:\n"
    for n in 0..<nodes {
        for (i, d) in datasets.enumerated() where n % 4 == i {
            state +=
                "  - {node: node-\(n), dataset: ml/\(d), memory: \(n % 7)Gi, ssd: "
                + "\(n % 13)Gi\(d == "features" ? ", sharedMemory: true" : "")}\n"
        }
    }
    return state
}

/// Full Node objects of about 5 KB each (18 images, as on a busy node), as kube-scheduler sends
/// them without nodeCacheCapable.
func fullNodeObjects(_ fullNodes: Int) -> [[String: Any]] {
    let images = (0..<18).map { i in
        [
            "names": [
                "registry.example.com/team/image-\(i)@sha256:\(String(repeating: "ab", count: 32))",
                "registry.example.com/team/image-\(i):v1.\(i)",
            ], "sizeBytes": 100_000_000 + i,
        ] as [String: Any]
    }
    return (0..<fullNodes).map { n in
        [
            "metadata": [
                "name": "node-\(n)", "uid": UUID().uuidString, "resourceVersion": "\(1000 + n)",
                "labels": [
                    "kubernetes.io/hostname": "node-\(n)", "topology.kubernetes.io/zone": "zone-\(n % 3)", "fluid.io/s-ml-features": "true",
                    "node.kubernetes.io/instance-type": "m5.4xlarge",
                ],
                "annotations": ["node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"],
            ],
            "spec": ["podCIDR": "10.\(n / 250).\(n % 250).0/24", "providerID": "aws:///zone/i-\(n)"],
            "status": [
                "capacity": ["cpu": "16", "memory": "65536Mi", "pods": "110", "ephemeral-storage": "100Gi"],
                "allocatable": ["cpu": "15800m", "memory": "63000Mi", "pods": "110", "ephemeral-storage": "95Gi"],
                "conditions": ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"].map {
                    [
                        "type": $0, "status": $0 == "Ready" ? "True" : "False", "lastHeartbeatTime": "2026-11-24T10:00:00Z",
                        "lastTransitionTime": "2026-11-20T10:00:00Z", "reason": "Kubelet\($0)", "message": "kubelet is posting status",
                    ]
                },
                "addresses": [
                    ["type": "InternalIP", "address": "10.0.\(n / 250).\(n % 250)"], ["type": "Hostname", "address": "node-\(n)"],
                ],
                "nodeInfo": [
                    "kubeletVersion": "v1.31.2", "osImage": "Debian GNU/Linux 12", "containerRuntimeVersion": "containerd://1.7.22",
                    "kernelVersion": "6.1.0", "architecture": "amd64", "operatingSystem": "linux",
                ],
                "images": images,
            ],
        ]
    }
}
