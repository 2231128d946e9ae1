import Foundation
import JSON
import KubeClient
import Locality
import Mutators
import TestSupport
import Testing

@testable import WebhookServer

@Suite("Data path: mutated pods run with podman, reading real engines", .serialized)
struct DataPathTests {
    static let text = "bytes through the FUSE sidecar\n"
    static let blob = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
    static var blobSum: String {
        let dir = NSTemporaryDirectory() + "locus-blob-" + UUID().uuidString
        try? blob.write(to: URL(fileURLWithPath: dir))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return (try? runProcess("/usr/bin/md5sum", [dir]).stdout.split(separator: " ").first.map(String.init)) ?? "?"
    }
    static let readCommand = "cat /data/hello.txt && md5sum /data/blob.bin"

    func mutate(_ pod: JSONValue, state: String, namespace: String, policy change: (inout AdmissionPolicy) -> Void = { _ in }) throws
        -> AdmissionResult
    {
        let cache = try ClusterStateFile(yaml: state, source: "test").makeClusterCache()
        var p = AdmissionPolicy()
        p.mutation.fuseMountTimeoutSeconds = 20
        change(&p)
        return Admission.review(pod: pod, namespace: namespace, uid: "data-path", catalog: cache, policy: p)
    }

    /// A native sidecar copied from Fluid's JuiceFS FUSE DaemonSet runs its mount script with
    /// METAURL from the Secret, its startup probe holds the app until the mount is up, the app
    /// reads the bytes at its own mount path, and the preStop unmount leaves nothing mounted.
    @Test func juicefsNativeSidecarDeliversTheBytes() async throws {
        let volume = try await JuiceFSVolume.make(name: "jfsdemo", files: ["hello.txt": Data(Self.text.utf8), "blob.bin": Self.blob])
        defer { volume.stop() }
        let r = try mutate(
            FluidJuiceFS.appPod(namespace: "default", dataset: "jfsdemo", command: Self.readCommand),
            state: FluidJuiceFS.clusterState(namespace: "default", name: "jfsdemo"), namespace: "default")
        #expect(r.outcome == .mutated, "\(r.response.message ?? "")")
        let pod = try #require(r.pod)
        #expect(pod["spec"]?["initContainers"]?[0]?["name"] == "locus-fuse-jfsdemo")
        let run = try await FluidJuiceFS.runner(metaURL: volume.metaURL, namespace: "default", name: "jfsdemo").run(pod, waitFor: ["app"])
        #expect(run.failure == nil, "\(run.events) \(run.logs)")
        #expect(run.exitCodes["app"] == 0, "\(run.events) \(run.logs)")
        let out = run.logs["app"] ?? ""
        #expect(out.contains(Self.text.trimmingCharacters(in: .newlines)) && out.contains(Self.blobSum), "the app read: \(out)")
        #expect(run.events.contains("startupProbe of locus-fuse-jfsdemo passed"), "\(run.events)")
        #expect(run.events.contains("preStop of locus-fuse-jfsdemo exited 0"), "the DaemonSet's preStop unmounted: \(run.events)")
        #expect(run.leftoverMounts.isEmpty, "\(run.leftoverMounts)")
    }

    /// Clusters before 1.29: the sidecar is the first container and its postStart check holds the
    /// app container until the mount is up; the app reads the same bytes.
    @Test func juicefsPlainSidecarWithPostStartCheckDeliversTheBytes() async throws {
        let volume = try await JuiceFSVolume.make(name: "jfsplain", files: ["hello.txt": Data(Self.text.utf8), "blob.bin": Self.blob])
        defer { volume.stop() }
        let r = try mutate(
            FluidJuiceFS.appPod(namespace: "team", dataset: "jfsplain", command: Self.readCommand),
            state: FluidJuiceFS.clusterState(namespace: "team", name: "jfsplain"), namespace: "team"
        ) {
            $0.mutation.nativeSidecars = false
        }
        let pod = try #require(r.pod, "\(r.response.message ?? "")")
        #expect(pod["spec"]?["containers"]?[0]?["name"] == "locus-fuse-jfsplain" && pod["spec"]?["initContainers"] == nil)
        let run = try await FluidJuiceFS.runner(metaURL: volume.metaURL, namespace: "team", name: "jfsplain").run(pod, waitFor: ["app"])
        #expect(run.exitCodes["app"] == 0, "\(run.events) \(run.logs)")
        let out = run.logs["app"] ?? ""
        #expect(out.contains(Self.text.trimmingCharacters(in: .newlines)) && out.contains(Self.blobSum), "the app read: \(out)")
        #expect(run.events.contains("postStart of locus-fuse-jfsplain exited 0"), "\(run.events)")
        #expect(run.leftoverMounts.isEmpty, "\(run.leftoverMounts)")
    }
}

/// vineyardd on its etcd, with its socket in a directory of its own, and an object put under a name.
struct VineyardInstance {
    let etcd: Process
    let vineyardd: Process
    let dir: TempDir
    let socketDirectory: String
    let rpcPort: Int

    static func start(putting name: String, values: Int) async throws -> VineyardInstance {
        let (etcdPath, vineyardd) = try vineyardBinaries()
        let dir = try TempDir()
        let rpc = freePort()
        let (etcd, client) = try await startEtcd(etcdPath, in: dir)
        let sockets = dir.file("runtime-mnt/vineyard/ml/features")
        try FileManager.default.createDirectory(atPath: sockets, withIntermediateDirectories: true)
        let d = try startBackground(
            vineyardd,
            [
                "--socket", "\(sockets)/vineyard.sock", "--rpc_socket_port", "\(rpc)", "--size", "64Mi", "--meta", "etcd",
                "--etcd_endpoint", "http://127.0.0.1:\(client)", "--etcd_prefix", "/locus-data-path",
            ], environment: ["MY_NODE_NAME": "runner-node"], log: dir.file("vineyardd.log"))
        let instance = VineyardInstance(etcd: etcd, vineyardd: d, dir: dir, socketDirectory: sockets, rpcPort: rpc)
        try #require(
            await eventually(timeout: .seconds(30)) {
                listening(rpc) && FileManager.default.fileExists(atPath: "\(sockets)/vineyard.sock")
            },
            "vineyardd did not start: \((try? String(contentsOfFile: dir.file("vineyardd.log"), encoding: .utf8)) ?? "")")
        let put = try runBounded(
            "/usr/bin/env",
            [
                "python3", "-c",
                """
                import vineyard, numpy as np
                c = vineyard.connect('\(sockets)/vineyard.sock')
                o = c.put(np.arange(\(values), dtype=np.int64)); c.persist(o); c.put_name(o, '\(name)')
                """,
            ], timeout: 60, log: dir.file("put.log"))
        try #require(put == 0, "putting the object failed: \((try? String(contentsOfFile: dir.file("put.log"), encoding: .utf8)) ?? "")")
        return instance
    }

    func stop() {
        TestSupport.stop(vineyardd)
        TestSupport.stop(etcd)
        dir.cleanup()
    }

    /// The dataset served by a VineyardRuntime whose socket directory is this instance's.
    func clusterState(namespaceLabels: String = "{}") -> String {
        """
        datasets:
          - metadata: {name: features, namespace: ml}
            status: {phase: Bound, runtimes: [{name: features, namespace: ml, type: vineyard}]}
        runtimes:
          - kind: VineyardRuntime
            metadata: {name: features, namespace: ml, annotations: {locus.dev/socket-dir: \(socketDirectory)}}
        persistentVolumeClaims:
          - metadata: {name: features, namespace: ml, labels: {fluid.io/s-ml-features: "true", fluid.io/dataset-id: ml-features}}
            spec: {volumeName: ml-features}
        configMaps:
          - metadata: {name: features-rpc-conf, namespace: ml}
            data: {VINEYARD_RPC_ENDPOINT: "127.0.0.1:\(rpcPort)"}
        namespaces:
          - metadata: {name: ml, labels: \(namespaceLabels)}
        daemonSets: []
        """
    }

    /// A pod reading the named object over IPC, with Python and vineyard's client from this machine.
    static func readerPod(name: String) -> JSONValue {
        let script =
            "import os, vineyard; c = vineyard.connect(os.environ['VINEYARD_IPC_SOCKET']); a = c.get(c.get_name('\(name)')); "
            + "print('sum', int(a.sum()), 'rpc', os.environ.get('VINEYARD_RPC_ENDPOINT'))"
        return [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": "reader", "namespace": "ml", "labels": ["locus.dev/inject": "true"],
                "annotations": ["locus.dev/datasets": "features"],
            ],
            "spec": [
                "restartPolicy": "Never",
                "containers": [["name": "app", "image": "python:3.11", "command": ["python3", "-c", .string(script)]]],
            ],
        ]
    }

    /// The runner, with a stand-in for `python:3.11`: busybox whose `/lib`, `/lib64` lead into
    /// the host's `/usr` (mounted read-only with the Python installation), and `python3` the host's
    /// (outside `/usr`, which the host's hides).
    func runner() async throws -> PodRunner {
        let prefix = try runProcess("/usr/bin/env", ["python3", "-c", "import sys; print(sys.prefix)"]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let python = try runProcess("/usr/bin/env", ["python3", "-c", "import sys, os; print(os.path.realpath(sys.executable))"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let image = try await Podman.shared.image(
            "python", links: ["/lib": "usr/lib", "/lib64": "usr/lib64", "/sbin/python3": python])
        var runner = PodRunner(images: ["python:3.11": .init(local: image, readOnlyHostPaths: ["/usr", prefix])])
        runner.objects.configMaps["features-rpc-conf"] = ["VINEYARD_RPC_ENDPOINT": "127.0.0.1:\(rpcPort)"]
        return runner
    }
}

extension DataPathTests {
    /// A shared-memory pod: the runtime's socket directory mounted from the node, the socket
    /// named in VINEYARD_IPC_SOCKET and the RPC endpoint from the runtime's ConfigMap; the app's
    /// Python reads the object the test put, with no code of its own to find the engine.
    @Test func vineyardIPCPodReadsTheObject() async throws {
        let vineyard = try await VineyardInstance.start(putting: "features/part-0", values: 1000)
        defer { vineyard.stop() }
        let r = try mutate(VineyardInstance.readerPod(name: "features/part-0"), state: vineyard.clusterState(), namespace: "ml") {
            $0.mutation.socketRoots = [vineyard.dir.path]
        }
        #expect(r.outcome == .mutated, "\(r.response.message ?? "")")
        let pod = try #require(r.pod)
        #expect(pod["spec"]?["volumes"]?[0]?["hostPath"]?["path"] == .string(vineyard.socketDirectory))
        let run = try await vineyard.runner().run(pod, waitFor: ["app"])
        #expect(run.exitCodes["app"] == 0, "\(run.events) \(run.logs)")
        #expect(run.logs["app"]?.contains("sum 499500 rpc 127.0.0.1:\(vineyard.rpcPort)") == true, "\(run.logs)")
    }

    /// Where the namespace enforces Pod Security baseline (no hostPath), the socket is reached
    /// through the dataset's volume claim, as Fluid publishes it; the app reads the same object.
    /// (The runner stands in for Fluid's CSI plugin: the claim's volume is the socket directory.)
    @Test func vineyardThroughTheClaimWhereHostPathIsForbidden() async throws {
        let vineyard = try await VineyardInstance.start(putting: "features/part-1", values: 10)
        defer { vineyard.stop() }
        let state = vineyard.clusterState(namespaceLabels: "{pod-security.kubernetes.io/enforce: baseline}")
        let r = try mutate(VineyardInstance.readerPod(name: "features/part-1"), state: state, namespace: "ml") {
            $0.mutation.socketRoots = [vineyard.dir.path]
        }
        #expect(r.outcome == .mutated, "\(r.response.message ?? "")")
        let pod = try #require(r.pod)
        #expect(pod["spec"]?["volumes"]?[0]?["persistentVolumeClaim"]?["claimName"] == "features")
        #expect(PodSecurity(level: .baseline).violations(of: pod).isEmpty, "\(PodSecurity(level: .baseline).violations(of: pod))")
        var runner = try await vineyard.runner()
        runner.objects.claims["features"] = vineyard.socketDirectory
        let run = try await runner.run(pod, waitFor: ["app"])
        #expect(run.exitCodes["app"] == 0, "\(run.events) \(run.logs)")
        #expect(run.logs["app"]?.contains("sum 45 ") == true, "\(run.logs)")
    }
}
