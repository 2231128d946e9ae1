import Foundation
public import JSON
import KubeClient
import KubeTestServer

// A cluster shaped like a large production one, every object at the size kube-apiserver serves it
// (scripts/bench-production): GPU nodes of ~10 KB (labels, annotations, managedFields, 40 images),
// 3,000 namespaces with 18,000 ConfigMaps (~77 MB, 60 of them 256 KB Grafana dashboards applied
// with kubectl), 30,000 EBS volumes with their claims, and 200 Fluid JuiceFS datasets with every
// object Fluid makes for one. Generated from a fixed seed: the same objects on every run.

extension JSONValue: ExpressibleByStringInterpolation {}

/// The benchmark cluster's generator (`SplitMix64`), with the draws the cluster needs.
typealias SeededRandom = SplitMix64

extension SplitMix64 {
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef")
        var s = ""
        s.reserveCapacity(count)
        for _ in 0..<count { s.append(digits[Int(next() & 15)]) }
        return s
    }
    mutating func uuid() -> String { "\(hex(8))-\(hex(4))-4\(hex(3))-a\(hex(3))-\(hex(12))" }
}

/// The shape of the cluster and the names its parts go by (the schedule command names the same
/// datasets and nodes).
struct ProductionShape {
    var nodes: Int
    var namespaces = 3000
    var configMaps = 18_000
    var configMapBytes = 77_000_000
    var dashboards = 60
    var dashboardBytes = 256 * 1024
    var volumes = 30_000
    var datasets = 200
    /// The namespaces Fluid's datasets live in.
    var datasetNamespaces = 5
    var zones = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"]

    static func nodeName(_ n: Int) -> String { "ip-10-\(32 + n / 250)-\(n % 250 + 2)-\(10 + (n * 7) % 240).ec2.internal" }
    func datasetNamespace(_ d: Int) -> String { "ns-\(d % datasetNamespaces)" }
    static func datasetName(_ d: Int) -> String { "train-\(d)" }

    /// The datasets whose cache a node holds (Fluid's `fluid.io/s-<ns>-<name>` labels): every fifth
    /// node holds two or three.
    func cachedDatasets(onNode n: Int) -> [Int] {
        guard n % 5 == 0 else { return [] }
        let k = n / 5
        var out = [k % datasets]
        for d in [(k * 7 + 3) % datasets, (k * 13 + 5) % datasets] where !out.contains(d) {
            if out.count < 2 || k % 2 == 0 { out.append(d) }
        }
        return out
    }
}

struct ProductionObject {
    var resource: Resource
    var object: JSONValue
}

enum ProductionCluster {
    static let created = "2025-09-14T08:21:07Z"
    static let heartbeat = "2026-12-04T09:58:41Z"

    static func generate(_ shape: ProductionShape) -> [ProductionObject] {
        var rng = SeededRandom(seed: 0x10C05)
        var out: [ProductionObject] = []
        out.reserveCapacity(shape.nodes + shape.configMaps + 2 * shape.volumes + 8 * shape.datasets + shape.namespaces + 16)
        for n in 0..<shape.nodes { out.append(ProductionObject(resource: .nodes, object: node(n, shape, &rng))) }
        var names = (0..<shape.namespaces).map { "ns-\($0)" }
        names += ["monitoring", "kube-system", "default"]
        for ns in names { out.append(ProductionObject(resource: .namespaces, object: namespace(ns, &rng))) }
        out += configMaps(shape, namespaces: names, &rng)
        out += volumes(shape, &rng)
        out += fluid(shape, &rng)
        for name in ["kube-proxy", "aws-node", "ebs-csi-node", "nvidia-device-plugin-daemonset", "node-exporter"] {
            out.append(ProductionObject(resource: .daemonSets, object: systemDaemonSet(name, &rng)))
        }
        return out
    }

    // MARK: Nodes

    typealias InstanceType = (type: String, gpu: String, count: Int, memory: String, cpu: String)
    static let instanceTypes: [InstanceType] = [
        ("p4d.24xlarge", "NVIDIA-A100-SXM4-40GB", 8, "1176493248Ki", "96"),
        ("p5.48xlarge", "NVIDIA-H100-80GB-HBM3", 8, "2097152000Ki", "192"),
        ("g5.48xlarge", "NVIDIA-A10G", 8, "784119132Ki", "192"),
        ("g6e.12xlarge", "NVIDIA-L40S", 4, "394894380Ki", "48"),
    ]

    /// The images a GPU node's kubelet reports: system images, then training images (the same
    /// image has the same digest on every node).
    static let imageCatalog: [(repo: String, tag: String, digest: String, size: Int)] = {
        var rng = SeededRandom(seed: 0x1A6E)
        var repos: [(String, String)] = [
            ("eks/kube-proxy", "v1.31.2"), ("eks/aws-node", "v1.18.5"), ("eks/cni-init", "v1.18.5"), ("eks/ebs-csi", "v1.35.0"),
            ("csi-registrar", "v2.11.1"), ("livenessprobe", "v2.13.1"), ("nvidia/device-plugin", "v0.16.2"), ("nvidia/gfd", "v0.8.2"),
            ("nvidia/dcgm-exporter", "3.3.7-3.5.0"), ("nvidia/driver-manager", "v0.6.10"), ("node-exporter", "v1.8.2"),
            ("fluent-bit", "3.1.9"), ("juicefs-fuse", "ce-v1.1.0"), ("fluid-csi", "v1.0.3"), ("pause", "3.9"),
            ("nvidia/pytorch", "24.09-py3"),
        ]
        for i in 0..<44 {
            repos.append(("ml/\(["trainer", "evaluator", "tokenizer", "features"][i % 4])-\(i / 4)", "2026.\(11 + i % 2).\(i)"))
        }
        return repos.map { ($0.0, $0.1, rng.hex(64), 40_000_000 + rng.below(12_000_000_000)) }
    }()

    static func fieldsV1(_ keys: [String], prefix: String = "f:") -> JSONValue {
        var o: JSONObject = [".": [:]]
        for k in keys { o["\(prefix)\(k)"] = [:] }
        return .object(o)
    }

    static func node(_ n: Int, _ shape: ProductionShape, _ rng: inout SeededRandom) -> JSONValue {
        let name = ProductionShape.nodeName(n)
        let zone = shape.zones[n % shape.zones.count]
        let type = instanceTypes[(n / 7) % instanceTypes.count]
        let instanceID = "i-0\(rng.hex(16))"
        let ip = "10.\(32 + n / 250).\(n % 250 + 2).\(10 + (n * 7) % 240)"
        let labels = nodeLabels(n, shape, name: name, zone: zone, type: type)
        let annotations: JSONObject = [
            "alpha.kubernetes.io/provided-node-ip": .string(ip),
            "csi.volume.kubernetes.io/nodeid": "{\"ebs.csi.aws.com\":\"\(instanceID)\",\"fuse.csi.fluid.io\":\"\(name)\"}",
            "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            "nvidia.com/gpu-driver-upgrade-enabled": "true",
            "cluster-autoscaler.kubernetes.io/scale-down-disabled": "true",
        ]
        let conditions = nodeConditions
        let images = nodeImages(n)
        let capacity: JSONValue = [
            "cpu": .string(type.cpu), "ephemeral-storage": "1992289260Ki",
            "memory": .string(type.memory), "nvidia.com/gpu": "\(type.count)", "pods": "250", "vpc.amazonaws.com/efa": "4",
        ]
        let allocatable: JSONValue = [
            "cpu": "\(Int(type.cpu)! * 1000 - 1930)m", "ephemeral-storage": "1835037740594",
            "memory": .string(type.memory), "nvidia.com/gpu": "\(type.count)", "pods": "250", "vpc.amazonaws.com/efa": "4",
        ]
        let managedFields = nodeManagedFields(n)
        return [
            "metadata": [
                "name": .string(name), "uid": .string(rng.uuid()), "creationTimestamp": .string(created), "labels": .object(labels),
                "annotations": .object(annotations), "managedFields": .array(managedFields),
            ],
            "spec": [
                "podCIDR": "100.64.\(n % 256).0/24", "podCIDRs": ["100.64.\(n % 256).0/24"],
                "providerID": "aws:///\(zone)/\(instanceID)",
                "taints": [["key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"]],
            ],
            "status": [
                "capacity": capacity, "allocatable": allocatable, "conditions": .array(conditions),
                "addresses": [
                    ["type": "InternalIP", "address": .string(ip)], ["type": "InternalDNS", "address": .string(name)],
                    ["type": "Hostname", "address": .string(name)],
                ],
                "daemonEndpoints": ["kubeletEndpoint": ["Port": 10250]],
                "nodeInfo": [
                    "machineID": .string(rng.hex(32)),
                    "systemUUID": "ec2\(rng.hex(5))-\(rng.hex(4))-\(rng.hex(4))-\(rng.hex(4))-\(rng.hex(12))",
                    "bootID": .string(rng.uuid()), "kernelVersion": "5.10.227-219.884.amzn2.x86_64", "osImage": "Amazon Linux 2",
                    "containerRuntimeVersion": "containerd://1.7.22", "kubeletVersion": "v1.31.2-eks-94953ac",
                    "kubeProxyVersion": "v1.31.2-eks-94953ac", "operatingSystem": "linux", "architecture": "amd64",
                ],
                "images": .array(images),
            ],
        ]
    }

    /// A GPU node's labels: EKS's and NVIDIA's, and Fluid's for each dataset it caches.
    static func nodeLabels(_ n: Int, _ shape: ProductionShape, name: String, zone: String, type: InstanceType) -> JSONObject {
        var labels: JSONObject = [
            "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/instance-type": .string(type.type), "beta.kubernetes.io/os": "linux",
            "eks.amazonaws.com/capacityType": "ON_DEMAND",
            "eks.amazonaws.com/nodegroup": "gpu-\(type.type.split(separator: ".")[0])-\(zone)",
            "failure-domain.beta.kubernetes.io/region": "us-east-1",
            "failure-domain.beta.kubernetes.io/zone": .string(zone),
            "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": .string(name), "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": .string(type.type), "nvidia.com/gpu.count": "\(type.count)",
            "nvidia.com/gpu.product": .string(type.gpu), "nvidia.com/gpu.present": "true",
            "topology.ebs.csi.aws.com/zone": .string(zone), "topology.kubernetes.io/region": "us-east-1",
            "topology.kubernetes.io/zone": .string(zone),
        ]
        let cached = shape.cachedDatasets(onNode: n)
        for d in cached {
            let ns = shape.datasetNamespace(d)
            let ds = ProductionShape.datasetName(d)
            labels["fluid.io/s-\(ns)-\(ds)"] = "true"
            labels["fluid.io/s-juicefs-\(ns)-\(ds)"] = "true"
            labels["fluid.io/s-h-juicefs-d-\(ns)-\(ds)"] = "500GiB"
            labels["fluid.io/s-h-juicefs-t-\(ns)-\(ds)"] = "500GiB"
        }
        if !cached.isEmpty { labels["fluid.io/dataset-num"] = "\(cached.count)" }
        return labels
    }

    /// The kubelet's conditions, all healthy.
    static var nodeConditions: [JSONValue] {
        let conditionSpecs: [(String, String, String, String)] = [
            ("KernelDeadlock", "False", "KernelHasNoDeadlock", "kernel has no deadlock"),
            ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ]
        let conditions: [JSONValue] = conditionSpecs.map { c in
            [
                "type": .string(c.0), "status": .string(c.1), "reason": .string(c.2), "message": .string(c.3),
                "lastHeartbeatTime": .string(heartbeat), "lastTransitionTime": .string(created),
            ]
        }
        return conditions
    }

    /// The 40 images a node reports, the first 16 shared by every node.
    static func nodeImages(_ n: Int) -> [JSONValue] {
        let catalog = imageCatalog
        var images: [JSONValue] = []
        for i in 0..<40 {
            let image = catalog[i < 16 ? i : 16 + (i + n) % (catalog.count - 16)]
            images.append([
                "names": [.string("\(image.repo)@sha256:\(image.digest)"), .string("\(image.repo):\(image.tag)")],
                "sizeBytes": .integer(Int64(image.size)),
            ])
        }
        return images
    }

    /// The managed fields the kubelet and the controller manager write on a node.
    static func nodeManagedFields(_ n: Int) -> [JSONValue] {
        [
            [
                "manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": .string(created), "fieldsType": "FieldsV1",
                "fieldsV1": [
                    "f:metadata": [
                        "f:annotations": fieldsV1([
                            "alpha.kubernetes.io/provided-node-ip", "node.alpha.kubernetes.io/ttl",
                            "volumes.kubernetes.io/controller-managed-attach-detach",
                        ]),
                        "f:labels": fieldsV1([
                            "beta.kubernetes.io/arch", "beta.kubernetes.io/instance-type", "beta.kubernetes.io/os",
                            "eks.amazonaws.com/capacityType", "eks.amazonaws.com/nodegroup",
                            "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
                            "kubernetes.io/arch", "kubernetes.io/hostname", "kubernetes.io/os", "node.kubernetes.io/instance-type",
                            "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
                        ]),
                    ],
                    "f:spec": ["f:providerID": [:], "f:taints": [:]],
                ],
            ],
            [
                "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": .string(created),
                "fieldsType": "FieldsV1",
                "fieldsV1": ["f:spec": ["f:podCIDR": [:], "f:podCIDRs": [".": [:], "v:\"100.64.\(n % 256).0/24\"": [:]]]],
            ],
            [
                "manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": .string(heartbeat), "fieldsType": "FieldsV1",
                "subresource": "status",
                "fieldsV1": [
                    "f:metadata": ["f:annotations": ["f:csi.volume.kubernetes.io/nodeid": [:]]],
                    "f:status": [
                        "f:allocatable": ["f:ephemeral-storage": [:], "f:nvidia.com/gpu": [:], "f:vpc.amazonaws.com/efa": [:]],
                        "f:capacity": ["f:ephemeral-storage": [:], "f:nvidia.com/gpu": [:], "f:vpc.amazonaws.com/efa": [:]],
                        "f:conditions": [
                            "k:{\"type\":\"DiskPressure\"}": ["f:lastHeartbeatTime": [:]],
                            "k:{\"type\":\"MemoryPressure\"}": ["f:lastHeartbeatTime": [:]],
                            "k:{\"type\":\"PIDPressure\"}": ["f:lastHeartbeatTime": [:]],
                            "k:{\"type\":\"Ready\"}": ["f:lastHeartbeatTime": [:], "f:lastTransitionTime": [:], "f:message": [:]],
                        ],
                        "f:images": [:], "f:nodeInfo": ["f:bootID": [:]],
                    ],
                ],
            ],
        ]
    }

    // MARK: Namespaces and ConfigMaps

    static func namespace(_ name: String, _ rng: inout SeededRandom) -> JSONValue {
        [
            "metadata": [
                "name": .string(name), "uid": .string(rng.uuid()), "creationTimestamp": .string(created),
                "labels": ["kubernetes.io/metadata.name": .string(name)],
                "managedFields": [
                    [
                        "manager": "kubectl-create", "operation": "Update", "apiVersion": "v1", "time": .string(created),
                        "fieldsType": "FieldsV1",
                        "fieldsV1": ["f:metadata": ["f:labels": [".": [:], "f:kubernetes.io/metadata.name": [:]]]],
                    ]
                ],
            ],
            "spec": ["finalizers": ["kubernetes"]], "status": ["phase": "Active"],
        ]
    }

    /// A cluster CA certificate as PEM (about 1.1 KB), the same in every namespace.
    static let caPEM: String = {
        var rng = SeededRandom(seed: 0xCA)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var body = "MIIDBTCCAe2gAwIBAgIIT"
        while body.count < 1040 { body.append(alphabet[rng.below(64)]) }
        body += "=="
        var lines: [String] = []
        var i = body.startIndex
        while i < body.endIndex {
            let j = body.index(i, offsetBy: 64, limitedBy: body.endIndex) ?? body.endIndex
            lines.append(String(body[i..<j]))
            i = j
        }
        return "-----BEGIN CERTIFICATE-----\n" + lines.joined(separator: "\n") + "\n-----END CERTIFICATE-----\n"
    }()

    static func configMap(
        namespace: String, name: String, labels: JSONObject = [:], annotations: JSONObject = [:], data: JSONObject, manager: String,
        _ rng: inout SeededRandom
    ) -> JSONValue {
        var meta: JSONObject = [
            "name": .string(name), "namespace": .string(namespace), "uid": .string(rng.uuid()), "creationTimestamp": .string(created),
        ]
        if !labels.isEmpty { meta["labels"] = .object(labels) }
        if !annotations.isEmpty { meta["annotations"] = .object(annotations) }
        var fields: JSONObject = ["f:data": fieldsV1(data.map(\.key))]
        var metaFields: JSONObject = [:]
        if !labels.isEmpty { metaFields["f:labels"] = fieldsV1(labels.map(\.key)) }
        if !annotations.isEmpty { metaFields["f:annotations"] = fieldsV1(annotations.map(\.key)) }
        if !metaFields.isEmpty { fields["f:metadata"] = .object(metaFields) }
        meta["managedFields"] = [
            [
                "manager": .string(manager), "operation": "Update", "apiVersion": "v1", "time": .string(created), "fieldsType": "FieldsV1",
                "fieldsV1": .object(fields),
            ]
        ]
        return ["metadata": .object(meta), "data": .object(data)]
    }

    /// Text in the shape of a properties file, `bytes` long as a JSON string (a newline is `\\n` there).
    static func properties(bytes: Int, _ rng: inout SeededRandom) -> String {
        let keys = [
            "server.port", "spring.datasource.url", "feature.flags", "cache.ttl.seconds", "logging.level.root", "upstream.endpoints",
        ]
        var s = ""
        s.reserveCapacity(bytes + 80)
        var i = 0
        var escaped = 0
        while escaped < bytes {
            let line = "\(keys[i % keys.count]).\(i)=\(rng.hex(8 + rng.below(48)))"
            s += line
            escaped += line.utf8.count
            if escaped + 2 <= bytes {
                s += "\n"
                escaped += 2
            }
            i += 1
        }
        return String(s.utf8.prefix(s.utf8.count - (escaped - bytes)))!
    }

    /// A Grafana dashboard of about `bytes` bytes of JSON.
    static func dashboard(_ i: Int, bytes: Int, _ rng: inout SeededRandom) -> String {
        var panels: [String] = []
        var size = 0
        var id = 1
        while size < bytes - 200 {
            let metric = [
                "container_cpu_usage_seconds_total", "container_memory_working_set_bytes", "DCGM_FI_DEV_GPU_UTIL",
                "node_network_receive_bytes_total", "juicefs_blockcache_hits",
            ][id % 5]
            let p =
                "{\"datasource\":{\"type\":\"prometheus\",\"uid\":\"prometheus\"},\"fieldConfig\":{\"defaults\":{\"unit\":\"short\"},"
                + "\"overrides\":[]},\"gridPos\":{\"h\":8,\"w\":12,\"x\":\(id % 2 * 12),\"y\":\(id / 2 * 8)},\"id\":\(id),"
                + "\"targets\":[{\"expr\":\"sum by (namespace, pod) (rate(\(metric){cluster=\\\"$cluster\\\",namespace=~\\\"$namespace\\\"}[5m]))\","
                + "\"legendFormat\":\"{{namespace}}/{{pod}}\",\"refId\":\"A\"}],\"title\":\"\(metric) \(rng.hex(6))\",\"type\":\"timeseries\"}"
            panels.append(p)
            // As served: every quote and backslash of the text is escaped once more in the ConfigMap's JSON.
            size += p.utf8.count + 1 + p.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "\"") || $1 == UInt8(ascii: "\\") ? 1 : 0) }
            id += 1
        }
        return "{\"title\":\"Dashboard \(i)\",\"uid\":\"\(rng.hex(9))\",\"schemaVersion\":39,\"panels\":[" + panels.joined(separator: ",")
            + "]}"
    }

    static let rootCADescription =
        "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the "
        + "internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."

    static func configMaps(_ shape: ProductionShape, namespaces: [String], _ rng: inout SeededRandom) -> [ProductionObject] {
        var fixed = rootCAs(namespaces, &rng)
        fixed += dashboards(shape, &rng)
        fixed += fluidScripts(shape, &rng)
        return fixed + applicationConfigMaps(shape, besides: fixed, &rng)
    }

    /// `kube-root-ca.crt` in every namespace, as the controller manager writes it.
    static func rootCAs(_ namespaces: [String], _ rng: inout SeededRandom) -> [ProductionObject] {
        var fixed: [ProductionObject] = []
        for ns in namespaces {
            fixed.append(
                ProductionObject(
                    resource: .configMaps,
                    object: configMap(
                        namespace: ns, name: "kube-root-ca.crt",
                        annotations: [
                            "kubernetes.io/description": .string(rootCADescription)
                        ], data: ["ca.crt": .string(caPEM)], manager: "kube-controller-manager", &rng)))
        }
        return fixed
    }

    /// Grafana's dashboards, applied with kubectl: the last-applied annotation is the whole object again.
    static func dashboards(_ shape: ProductionShape, _ rng: inout SeededRandom) -> [ProductionObject] {
        var fixed: [ProductionObject] = []
        for i in 0..<shape.dashboards {
            let name = "grafana-dashboard-\(i)"
            let labels: JSONObject = ["grafana_dashboard": "1", "app.kubernetes.io/part-of": "kube-prometheus"]
            let data: JSONObject = ["dashboard-\(i).json": .string(dashboard(i, bytes: shape.dashboardBytes, &rng))]
            let applied: JSONValue = [
                "apiVersion": "v1", "kind": "ConfigMap", "data": .object(data),
                "metadata": ["annotations": [:], "labels": .object(labels), "name": .string(name), "namespace": "monitoring"],
            ]
            let lastApplied = String(decoding: applied.encodedBytes(), as: UTF8.self) + "\n"
            fixed.append(
                ProductionObject(
                    resource: .configMaps,
                    object: configMap(
                        namespace: "monitoring", name: name, labels: labels,
                        annotations: ["kubectl.kubernetes.io/last-applied-configuration": .string(lastApplied)], data: data,
                        manager: "kubectl-client-side-apply", &rng)))
        }
        return fixed
    }

    /// Fluid's script ConfigMap of each JuiceFS runtime.
    static func fluidScripts(_ shape: ProductionShape, _ rng: inout SeededRandom) -> [ProductionObject] {
        var fixed: [ProductionObject] = []
        for d in 0..<shape.datasets {
            let ns = shape.datasetNamespace(d)
            let name = ProductionShape.datasetName(d)
            let script = """
                #!/bin/bash

                set -e

                /usr/local/bin/juicefs format --storage=s3 --bucket=s3://ml-datasets-prod/\(name) --access-key=${ACCESS_KEY} \
                --secret-key=${SECRET_KEY} --trash-days=0 ${METAURL} \(name)

                exec /sbin/mount.juicefs ${METAURL} /runtime-mnt/juicefs/\(ns)/\(name)/juicefs-fuse -o \
                metrics=0.0.0.0:9567,cache-dir=/var/jfsCache,cache-size=512000,free-space-ratio=0.1,ro,attr-cache=7200,entry-cache=7200

                """
            fixed.append(
                ProductionObject(
                    resource: .configMaps,
                    object: configMap(
                        namespace: ns, name: "\(name)-juicefs-script",
                        labels: ["fluid.io/dataset-id": "\(ns)-\(name)", "app": "juicefs", "release": .string(name)],
                        data: ["script.sh": .string(script)], manager: "helm", &rng)))
        }
        return fixed
    }

    /// Applications' ConfigMaps, 1–6 KB of data each (most near the small end), sized so that
    /// every ConfigMap together, `fixed` included, is `configMapBytes` as served.
    static func applicationConfigMaps(_ shape: ProductionShape, besides fixed: [ProductionObject], _ rng: inout SeededRandom)
        -> [ProductionObject]
    {
        let fixedBytes = fixed.reduce(0) { $0 + $1.object.encodedBytes().count }
        let count = shape.configMaps - fixed.count
        guard count > 0 else { return [] }
        var apps: [(ns: String, name: String, labels: JSONObject, weight: Double)] = []
        for j in 0..<count {
            let app = ["api", "worker", "frontend", "ingest", "scheduler", "notebook"][j % 6]
            let ns = "ns-\(j % shape.namespaces)"
            let u = rng.unit()
            apps.append(
                (
                    ns, "\(app)-\(j / shape.namespaces)-config",
                    [
                        "app.kubernetes.io/name": .string(app), "app.kubernetes.io/instance": "\(app)-\(j % 97)",
                        "app.kubernetes.io/managed-by": "Helm",
                    ],
                    u * u
                ))
        }
        // Each one's bytes with no data, so the data can be sized to the byte.
        var empty: [JSONValue] = []
        var overheads = 0
        for a in apps {
            let o = configMap(namespace: a.ns, name: a.name, labels: a.labels, data: ["application.properties": ""], manager: "helm", &rng)
            overheads += o.encodedBytes().count + 1  // and a comma in the list
            empty.append(o)
        }
        // The API server adds a resourceVersion of 5 or 6 digits to each.
        let budget = shape.configMapBytes - fixedBytes - overheads - count * 1024 - shape.configMaps * 27
        let totalWeight = apps.reduce(0) { $0 + $1.weight }
        let perWeight = min(5120, max(0, Double(budget) / max(totalWeight, 1)))
        var out: [ProductionObject] = []
        for (a, o) in zip(apps, empty) {
            var o = o
            o["data"] = ["application.properties": .string(properties(bytes: 1024 + Int(a.weight * perWeight), &rng))]
            out.append(ProductionObject(resource: .configMaps, object: o))
        }
        return out
    }

    // MARK: Volumes

    static func volumes(_ shape: ProductionShape, _ rng: inout SeededRandom) -> [ProductionObject] {
        var out: [ProductionObject] = []
        for i in 0..<shape.volumes {
            let v = EBSVolumeShape(i, shape: shape, claimUID: rng.uuid())
            out += [claimObject(v), volumeObject(v, &rng)]
        }
        return out
    }

    /// An application's EBS claim, bound.
    static func claimObject(_ v: EBSVolumeShape) -> ProductionObject {
        let (ns, app, claim, claimUID, pv, node, size) = (v.ns, v.app, v.claim, v.claimUID, v.pv, v.node, v.size)
        return ProductionObject(
            resource: .persistentVolumeClaims,
            object: [
                "metadata": [
                    "name": .string(claim), "namespace": .string(ns), "uid": .string(claimUID),
                    "creationTimestamp": .string(created),
                    "labels": [
                        "app.kubernetes.io/name": .string(app), "app.kubernetes.io/instance": "\(v.instance)",
                    ],
                    "annotations": [
                        "pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
                        "volume.beta.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
                        "volume.kubernetes.io/selected-node": .string(node),
                        "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
                    ],
                    "finalizers": ["kubernetes.io/pvc-protection"],
                    "managedFields": [
                        [
                            "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                            "time": .string(created),
                            "fieldsType": "FieldsV1",
                            "fieldsV1": [
                                "f:metadata": [
                                    "f:annotations": [
                                        "f:pv.kubernetes.io/bind-completed": [:], "f:pv.kubernetes.io/bound-by-controller": [:],
                                        "f:volume.beta.kubernetes.io/storage-provisioner": [:],
                                        "f:volume.kubernetes.io/storage-provisioner": [:],
                                    ]
                                ],
                                "f:spec": ["f:volumeName": [:]],
                            ],
                        ],
                        [
                            "manager": "kube-scheduler", "operation": "Update", "apiVersion": "v1", "time": .string(created),
                            "fieldsType": "FieldsV1",
                            "fieldsV1": ["f:metadata": ["f:annotations": [".": [:], "f:volume.kubernetes.io/selected-node": [:]]]],
                        ],
                        [
                            "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                            "time": .string(created),
                            "fieldsType": "FieldsV1", "subresource": "status",
                            "fieldsV1": [
                                "f:status": ["f:accessModes": [:], "f:capacity": [".": [:], "f:storage": [:]], "f:phase": [:]]
                            ],
                        ],
                    ],
                ],
                "spec": [
                    "accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": .string(size)]],
                    "storageClassName": "gp3", "volumeMode": "Filesystem", "volumeName": .string(pv),
                ],
                "status": ["phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": ["storage": .string(size)]],
            ])
    }

    /// Its EBS volume on the CSI driver, with the node affinity of its zone.
    static func volumeObject(_ v: EBSVolumeShape, _ rng: inout SeededRandom) -> ProductionObject {
        let (ns, claim, claimUID, pv, zone, size) = (v.ns, v.claim, v.claimUID, v.pv, v.zone, v.size)
        return ProductionObject(
            resource: .persistentVolumes,
            object: [
                "metadata": [
                    "name": .string(pv), "uid": .string(rng.uuid()), "creationTimestamp": .string(created),
                    "annotations": [
                        "pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com",
                        "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                        "volume.kubernetes.io/provisioner-deletion-secret-namespace": "",
                    ],
                    "finalizers": [
                        "external-provisioner.volume.kubernetes.io/finalizer", "kubernetes.io/pv-protection",
                        "external-attacher/ebs-csi-aws-com",
                    ],
                    "managedFields": volumeManagedFields,
                ],
                "spec": [
                    "accessModes": ["ReadWriteOnce"], "capacity": ["storage": .string(size)],
                    "claimRef": [
                        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": .string(claim), "namespace": .string(ns),
                        "resourceVersion": "\(100_000 + v.index)", "uid": .string(claimUID),
                    ],
                    "csi": [
                        "driver": "ebs.csi.aws.com", "fsType": "ext4",
                        "volumeAttributes": ["storage.kubernetes.io/csiProvisionerIdentity": "1757836867146-8081-ebs.csi.aws.com"],
                        "volumeHandle": "vol-0\(rng.hex(16))",
                    ],
                    "nodeAffinity": zoneAffinity(zone),
                    "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "gp3", "volumeMode": "Filesystem",
                ],
                "status": ["phase": "Bound", "lastPhaseTransitionTime": .string(created)],
            ])
    }

    /// A volume's node affinity: the nodes of its zone.
    static func zoneAffinity(_ zone: String) -> JSONValue {
        [
            "required": [
                "nodeSelectorTerms": [
                    [
                        "matchExpressions": [
                            ["key": "topology.kubernetes.io/zone", "operator": "In", "values": [.string(zone)]]
                        ]
                    ]
                ]
            ]
        ]
    }

    /// The managed fields of an EBS volume: the CSI provisioner's and the controller manager's.
    static let volumeManagedFields: JSONValue = [
        [
            "manager": "csi-provisioner", "operation": "Update", "apiVersion": "v1", "time": .string(created),
            "fieldsType": "FieldsV1",
            "fieldsV1": [
                "f:metadata": [
                    "f:annotations": fieldsV1([
                        "pv.kubernetes.io/provisioned-by", "volume.kubernetes.io/provisioner-deletion-secret-name",
                        "volume.kubernetes.io/provisioner-deletion-secret-namespace",
                    ]),
                    "f:finalizers": [".": [:], "v:\"external-provisioner.volume.kubernetes.io/finalizer\"": [:]],
                ],
                "f:spec": [
                    "f:accessModes": [:], "f:capacity": [".": [:], "f:storage": [:]], "f:claimRef": [".": [:]],
                    "f:csi": [
                        ".": [:], "f:driver": [:], "f:fsType": [:], "f:volumeAttributes": [:],
                        "f:volumeHandle": [:],
                    ],
                    "f:nodeAffinity": [".": [:], "f:required": [:]], "f:persistentVolumeReclaimPolicy": [:],
                    "f:storageClassName": [:], "f:volumeMode": [:],
                ],
            ],
        ],
        [
            "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
            "time": .string(created),
            "fieldsType": "FieldsV1", "subresource": "status",
            "fieldsV1": ["f:status": ["f:phase": [:]]],
        ],
    ]

    // MARK: Fluid

    static func fluid(_ shape: ProductionShape, _ rng: inout SeededRandom) -> [ProductionObject] {
        var out: [ProductionObject] = []
        for d in 0..<shape.datasets {
            let f = FluidDatasetShape(d, shape: shape, uid: rng.uuid())
            out += [
                fluidDataset(f), fluidRuntime(f, &rng), fluidClaim(f, &rng), fluidVolume(f, &rng), fuseDaemonSet(f, &rng),
            ]
        }
        return out
    }

    /// The Dataset, Bound, with its cache states.
    static func fluidDataset(_ f: FluidDatasetShape) -> ProductionObject {
        let (ns, name, cachedGiB, datasetUID) = (f.ns, f.name, f.cachedGiB, f.datasetUID)
        return ProductionObject(
            resource: .datasets,
            object: [
                "metadata": [
                    "name": .string(name), "namespace": .string(ns), "uid": .string(datasetUID), "generation": 2,
                    "creationTimestamp": .string(created), "finalizers": ["fluid-dataset-controller-finalizer"],
                ],
                "spec": [
                    "accessModes": ["ReadOnlyMany"], "placement": "Exclusive",
                    "mounts": [
                        [
                            "mountPoint": "juicefs:///", "name": .string(name),
                            "options": ["bucket": "s3://ml-datasets-prod/\(name)", "storage": "s3"],
                            "encryptOptions": [
                                ["name": "metaurl", "valueFrom": ["secretKeyRef": ["name": "jfs-secret", "key": "metaurl"]]],
                                [
                                    "name": "access-key",
                                    "valueFrom": ["secretKeyRef": ["name": "jfs-secret", "key": "access-key"]],
                                ],
                                [
                                    "name": "secret-key",
                                    "valueFrom": ["secretKeyRef": ["name": "jfs-secret", "key": "secret-key"]],
                                ],
                            ],
                        ]
                    ],
                ],
                "status": [
                    "phase": "Bound",
                    "runtimes": [
                        [
                            "name": .string(name), "namespace": .string(ns), "type": "juicefs", "category": "Accelerate",
                            "masterReplicas": 1,
                        ]
                    ],
                    "cacheStates": [
                        "cacheCapacity": "1.46TiB", "cached": "\(cachedGiB).00GiB",
                        "cachedPercentage": "\(cachedGiB * 100 / 1000).0%",
                        "cacheHitRatio": "87.3%", "cacheThroughputRatio": "91.2%", "localHitRatio": "42.0%",
                        "remoteHitRatio": "45.3%",
                    ],
                    "conditions": [
                        [
                            "type": "Ready", "status": "True", "reason": "DatasetReady", "message": "The ddc runtime is ready.",
                            "lastTransitionTime": .string(created), "lastUpdateTime": .string(created),
                        ]
                    ],
                    "ufsTotal": "1000.00GiB", "fileNum": "\(1_000_000 + f.index * 1000)",
                    "hcfs": ["endpoint": "N/A", "underlayerFileSystemVersion": ""],
                    "mounts": [["mountPoint": "juicefs:///", "name": .string(name)]],
                ],
            ])
    }

    /// The JuiceFSRuntime with its tiered store and status.
    static func fluidRuntime(_ f: FluidDatasetShape, _ rng: inout SeededRandom) -> ProductionObject {
        let (ns, name, id, owner, runtimes) = (f.ns, f.name, f.id, f.owner, f.runtimes)
        return ProductionObject(
            resource: runtimes,
            object: [
                "metadata": [
                    "name": .string(name), "namespace": .string(ns), "uid": .string(rng.uuid()), "generation": 1,
                    "creationTimestamp": .string(created), "finalizers": ["juicefs-runtime-controller-finalizer"],
                    "ownerReferences": owner,
                ],
                "spec": [
                    "replicas": 3,
                    "tieredstore": ["levels": [["mediumtype": "SSD", "path": "/var/jfsCache", "quota": "500Gi", "low": "0.1"]]],
                    "fuse": [
                        "image": "juicedata/juicefs-fuse", "imageTag": "ce-v1.1.0", "imagePullPolicy": "IfNotPresent",
                        "cleanPolicy": "OnRuntimeDeleted",
                    ],
                    "worker": ["options": ["metrics": "0.0.0.0:9567"]],
                ],
                "status": [
                    "workerPhase": "Ready", "fusePhase": "Ready", "workerNumberReady": 3, "fuseNumberReady": 40,
                    "selector": "app=juicefs,release=\(name),role=juicefs-worker,fluid.io/dataset-id=\(id)",
                    "valueFile": "\(name)-juicefs-values",
                    "cacheAffinity": [
                        "requiredDuringSchedulingIgnoredDuringExecution": [
                            "nodeSelectorTerms": [
                                ["matchExpressions": [["key": "fluid.io/s-\(id)", "operator": "In", "values": ["true"]]]]
                            ]
                        ]
                    ],
                ],
            ])
    }

    /// The dataset's claim, which Fluid names after it.
    static func fluidClaim(_ f: FluidDatasetShape, _ rng: inout SeededRandom) -> ProductionObject {
        let (ns, name, id) = (f.ns, f.name, f.id)
        let fluidLabels: JSONValue = ["fluid.io/s-\(id)": "true", "fluid.io/dataset-id": .string(id)]
        return ProductionObject(
            resource: .persistentVolumeClaims,
            object: [
                "metadata": [
                    "name": .string(name), "namespace": .string(ns), "uid": .string(rng.uuid()),
                    "creationTimestamp": .string(created),
                    "labels": fluidLabels,
                    "annotations": ["CreatedBy": "fluid", "pv.kubernetes.io/bind-completed": "yes"],
                    "finalizers": ["kubernetes.io/pvc-protection"],
                ],
                "spec": [
                    "accessModes": ["ReadOnlyMany"], "resources": ["requests": ["storage": "100Pi"]],
                    "selector": [
                        "matchLabels": ["fluid.io/s-\(id)": "true"]
                    ], "storageClassName": "fluid", "volumeMode": "Filesystem", "volumeName": .string(id),
                ],
                "status": ["phase": "Bound", "accessModes": ["ReadOnlyMany"], "capacity": ["storage": "100Pi"]],
            ])
    }

    /// The volume of that claim, on Fluid's CSI driver.
    static func fluidVolume(_ f: FluidDatasetShape, _ rng: inout SeededRandom) -> ProductionObject {
        let (ns, name, id, root) = (f.ns, f.name, f.id, f.root)
        let fluidLabels: JSONValue = ["fluid.io/s-\(id)": "true", "fluid.io/dataset-id": .string(id)]
        return ProductionObject(
            resource: .persistentVolumes,
            object: [
                "metadata": [
                    "name": .string(id), "uid": .string(rng.uuid()), "creationTimestamp": .string(created), "labels": fluidLabels,
                    "annotations": ["CreatedBy": "fluid"], "finalizers": ["kubernetes.io/pv-protection"],
                ],
                "spec": [
                    "accessModes": ["ReadOnlyMany"], "capacity": ["storage": "100Pi"],
                    "claimRef": [
                        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": .string(name), "namespace": .string(ns),
                    ],
                    "csi": [
                        "driver": "fuse.csi.fluid.io", "volumeHandle": .string(id),
                        "volumeAttributes": [
                            "fluid_path": "\(root)/juicefs-fuse", "mount_type": "fuse.juicefs", "runtime_name": .string(name),
                            "runtime_namespace": .string(ns),
                        ],
                    ],
                    "nodeAffinity": [
                        "required": [
                            "nodeSelectorTerms": [
                                ["matchExpressions": [["key": "fluid.io/s-\(id)", "operator": "In", "values": ["true"]]]]
                            ]
                        ]
                    ],
                    "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "fluid", "volumeMode": "Filesystem",
                ],
                "status": ["phase": "Bound"],
            ])
    }

    /// The runtime's FUSE DaemonSet, as Fluid's chart renders it.
    static func fuseDaemonSet(_ f: FluidDatasetShape, _ rng: inout SeededRandom) -> ProductionObject {
        let (ns, name, id, root, owner) = (f.ns, f.name, f.id, f.root, f.owner)
        let dsLabels: JSONValue = [
            "app": "juicefs", "chart": "juicefs-0.2.18", "heritage": "Helm", "release": .string(name), "role": "juicefs-fuse",
            "fluid.io/dataset-id": .string(id), "fluid.io/managed-by": "fluid",
        ]
        return ProductionObject(
            resource: .daemonSets,
            object: [
                "metadata": [
                    "name": "\(name)-fuse", "namespace": .string(ns), "uid": .string(rng.uuid()), "generation": 1,
                    "creationTimestamp": .string(created), "labels": dsLabels,
                    "annotations": [
                        "deprecated.daemonset.template.generation": "1", "meta.helm.sh/release-name": .string(name),
                        "meta.helm.sh/release-namespace": .string(ns),
                    ],
                    "ownerReferences": owner,
                ],
                "spec": [
                    "selector": ["matchLabels": ["app": "juicefs", "release": .string(name), "role": "juicefs-fuse"]],
                    "updateStrategy": ["type": "OnDelete"], "revisionHistoryLimit": 10,
                    "template": [
                        "metadata": ["labels": dsLabels, "annotations": ["sidecar.istio.io/inject": "false"]],
                        "spec": [
                            "hostNetwork": true, "dnsPolicy": "ClusterFirstWithHostNet", "enableServiceLinks": false,
                            "nodeSelector": ["fluid.io/f-\(id)": "true"], "restartPolicy": "Always",
                            "schedulerName": "default-scheduler",
                            "terminationGracePeriodSeconds": 30,
                            "containers": [
                                fuseContainer(f)
                            ],
                            "volumes": [
                                ["name": "juicefs-fuse-mount", "hostPath": ["path": .string(root), "type": "DirectoryOrCreate"]],
                                ["name": "cache-dir-1", "hostPath": ["path": "/var/jfsCache", "type": "DirectoryOrCreate"]],
                                ["name": "script", "configMap": ["name": "\(name)-juicefs-script", "defaultMode": 493]],
                            ],
                        ],
                    ],
                ],
                "status": [
                    "currentNumberScheduled": 40, "desiredNumberScheduled": 40, "numberAvailable": 40, "numberMisscheduled": 0,
                    "numberReady": 40, "observedGeneration": 1, "updatedNumberScheduled": 40,
                ],
            ])
    }

    /// The FUSE container of Fluid's JuiceFS chart: the mount script, the volume's secrets, the
    /// unmount on stop, the mount's readiness.
    static func fuseContainer(_ f: FluidDatasetShape) -> JSONValue {
        let (ns, name, root) = (f.ns, f.name, f.root)
        let secret = { (key: String, env: String) -> JSONValue in
            ["name": .string(env), "valueFrom": ["secretKeyRef": ["name": "jfs-secret", "key": .string(key)]]]
        }
        return [
            "name": "juicefs-fuse", "image": "juicedata/juicefs-fuse:ce-v1.1.0",
            "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "/root/script/script.sh"],
            "env": [
                ["name": "FLUID_RUNTIME_TYPE", "value": "juicefs"],
                ["name": "FLUID_RUNTIME_NS", "value": .string(ns)],
                ["name": "FLUID_RUNTIME_NAME", "value": .string(name)], secret("metaurl", "METAURL"),
                secret("access-key", "ACCESS_KEY"), secret("secret-key", "SECRET_KEY"),
            ],
            "lifecycle": ["preStop": ["exec": ["command": ["sh", "-c", "umount \(root)/juicefs-fuse"]]]],
            "ports": [["name": "metrics", "containerPort": 9567, "protocol": "TCP"]],
            "readinessProbe": [
                "exec": [
                    "command": [
                        "sh", "-c",
                        "if [ x$(mount -t fuse.juicefs | grep \(root)/juicefs-fuse) = x ]; then exit 1; fi",
                    ]
                ],
                "initialDelaySeconds": 1, "periodSeconds": 1, "failureThreshold": 500,
            ],
            "resources": [
                "limits": ["cpu": "4", "memory": "8Gi"], "requests": ["cpu": "500m", "memory": "1Gi"],
            ],
            "securityContext": ["privileged": true, "runAsUser": 0],
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            "volumeMounts": [
                [
                    "name": "juicefs-fuse-mount", "mountPath": .string(root),
                    "mountPropagation": "Bidirectional",
                ],
                ["name": "cache-dir-1", "mountPath": "/var/jfsCache"],
                ["name": "script", "mountPath": "/root/script"],
            ],
        ]
    }

    static func systemDaemonSet(_ name: String, _ rng: inout SeededRandom) -> JSONValue {
        [
            "metadata": [
                "name": .string(name), "namespace": "kube-system", "uid": .string(rng.uuid()), "creationTimestamp": .string(created),
                "labels": ["k8s-app": .string(name)],
            ],
            "spec": [
                "selector": ["matchLabels": ["k8s-app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["k8s-app": .string(name)]],
                    "spec": ["containers": [["name": .string(name), "image": "registry.example.com/\(name):v1"]]],
                ],
            ],
        ]
    }

    // MARK: The pods the benchmark schedules

    /// A pod of namespace `datasetNamespace(first)` mounting the claims of one or two of its datasets.
    static func pod(_ i: Int, datasets ids: [Int], _ shape: ProductionShape) -> JSONValue {
        let ns = shape.datasetNamespace(ids[0])
        let claims = ids.map(ProductionShape.datasetName)
        return [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": "trainer-\(i)-\(String(i * 2_654_435_761 % 100_000, radix: 36))", "namespace": .string(ns),
                "uid": "00000000-0000-4000-8000-\(String(format: "%012d", i))",
                "labels": ["app": "trainer", "fuse.serverful.fluid.io/inject": "true"],
            ],
            "spec": [
                "schedulerName": "default-scheduler",
                "containers": [
                    [
                        "name": "train", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/ml-platform/trainer-0:2026.11.0",
                        "resources": [
                            "limits": ["nvidia.com/gpu": "8"], "requests": ["cpu": "90", "memory": "1000Gi", "nvidia.com/gpu": "8"],
                        ],
                        "volumeMounts": .array(claims.map { ["name": .string($0), "mountPath": "/data/\($0)", "readOnly": true] }),
                    ]
                ],
                "tolerations": [["key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"]],
                "volumes": .array(
                    claims.map { ["name": .string($0), "persistentVolumeClaim": ["claimName": .string($0), "readOnly": true]] }),
            ],
        ]
    }

    /// The datasets pod `i` mounts: one or two of one namespace.
    static func podDatasets(_ i: Int, _ shape: ProductionShape) -> [Int] {
        let first = (i * 17) % shape.datasets
        guard i % 2 == 0 else { return [first] }
        let second = (first + shape.datasetNamespaces * (1 + i % 7)) % shape.datasets  // same namespace
        return second == first ? [first] : [first, second]
    }
}

/// One Fluid dataset of the production-shaped cluster: the names and figures every object made
/// for it shares.
struct FluidDatasetShape {
    /// Its number among the cluster's datasets.
    let index: Int
    let ns: String
    let name: String
    /// Fluid's dataset id, `<namespace>-<name>`.
    let id: String
    /// Where the runtime mounts it on the node.
    let root: String
    let cachedGiB: Int
    let datasetUID: String
    /// The owner reference Fluid puts on what it makes for the dataset.
    let owner: JSONValue
    let runtimes = Resource.fluidRuntime(.juicefs)

    init(_ d: Int, shape: ProductionShape, uid: String) {
        index = d
        ns = shape.datasetNamespace(d)
        name = ProductionShape.datasetName(d)
        id = "\(ns)-\(name)"
        root = "/runtime-mnt/juicefs/\(ns)/\(name)"
        cachedGiB = 100 + (d * 37) % 900
        datasetUID = uid
        owner = [
            [
                "apiVersion": "data.fluid.io/v1alpha1", "kind": "Dataset", "name": .string(name), "uid": .string(uid),
                "blockOwnerDeletion": true, "controller": true,
            ]
        ]
    }
}

/// One application volume of the production-shaped cluster (a StatefulSet's EBS claim and its
/// volume): what its two objects share.
struct EBSVolumeShape {
    /// Its number among the cluster's volumes.
    let index: Int
    let ns: String
    let app: String
    let claim: String
    let claimUID: String
    /// The volume's name, after the claim's uid as the EBS provisioner names it.
    let pv: String
    /// The node it is attached to, and that node's zone.
    let node: String
    let zone: String
    let size: String
    /// The StatefulSet's instance, `<app>-<ordinal>`.
    var instance: String { "\(app)-\(index / namespaces)" }
    let namespaces: Int

    init(_ i: Int, shape: ProductionShape, claimUID: String) {
        index = i
        namespaces = shape.namespaces
        ns = "ns-\(i % shape.namespaces)"
        app = ["postgres", "redis", "kafka", "elasticsearch", "minio", "prometheus"][i % 6]
        claim = "data-\(app)-\(i / shape.namespaces)"
        self.claimUID = claimUID
        pv = "pvc-\(claimUID)"
        node = ProductionShape.nodeName((i * 7919) % max(1, shape.nodes))
        zone = shape.zones[((i * 7919) % max(1, shape.nodes)) % shape.zones.count]
        size = "\([20, 50, 100, 200, 500][i % 5])Gi"
    }
}
