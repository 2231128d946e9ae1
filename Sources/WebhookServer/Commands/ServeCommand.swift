public import ArgumentParser
import AsyncHTTPClient
public import Foundation
import KubeClient
import Locality
import Logging
import Mutators
import ServiceLifecycle

public struct Serve: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Serve /mutate, /filter, /prioritize, /healthz, /readyz and /metrics on one TLS port.")

    @Option(help: "YAML config file (keys: \(ServeConfig.keys.map(\.name).sorted().joined(separator: ", "))).")
    var config: String?
    @Option(help: "kubeconfig path (default: $KUBECONFIG, then the in-cluster service account).")
    var kubeconfig: String?
    @Option(help: "Serving certificate (PEM). Without --cert/--key a self-signed pair is generated into certs/.")
    var cert: String?
    @Option(help: "Serving key (PEM).")
    var key: String?
    @Option(help: "TLS port (default 8443).")
    var port: Int?
    @Option(help: "Bind address (default 0.0.0.0).")
    var address: String?
    @Option(help: "A YAML file of datasets, runtimes, PVCs, nodes: serve it with no cluster.")
    var clusterState: String?
    @Flag(help: "Serve the built-in example cluster state (no cluster needed).")
    var example = false
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    public init() {}

    /// Resolves the configuration from defaults, file, environment and flags.
    public func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServeConfig {
        var c = ServeConfig()
        let file = config ?? environment["LOCUS_CONFIG"]
        if let file { try c.apply(file: file) }
        try c.apply(environment: environment)
        // The flag's own wording, which says what 0 means.
        if let port, !(0...65535).contains(port) { throw ConfigError("--port must be in 0...65535 (0: any free port)") }
        for flag in keyFlags {
            if let value = flag.value { try c.set(flag.key, value, source: flag.name) }
        }
        try c.validate()
        return c
    }

    /// The flags that set a configuration key, in the order they are applied; each value is read
    /// by that key's reader, as the key's environment variable would be.
    var keyFlags: [(name: String, key: String, value: String?)] {
        [
            ("--kubeconfig", "kubeconfig", kubeconfig),
            ("--cert", "certFile", cert),
            ("--key", "keyFile", key),
            ("--port", "port", port.map(String.init)),
            ("--address", "address", address),
            ("--cluster-state", "clusterState", clusterState),
            ("--example", "example", example ? "true" : nil),
            ("--log-level", "logLevel", logLevel),
        ]
    }

    public func run() async throws {
        FreedMemory.keepHeapCompact()
        let c = try resolve()
        LocusLogging.bootstrap(format: c.logFormat, level: c.logLevel)
        let logger = {
            var l = Logger(label: "locus")
            l.logLevel = c.logLevel
            return l
        }()

        // Bad input is found before anything is written.
        let (backend, staticCache) = try Self.backend(c, logger: logger)
        let (certPath, keyPath, caPath) = try Self.certificatePaths(c, logger: logger)
        let certificates = try CertificateStore(certificatePath: certPath, keyPath: keyPath, clientCAPath: c.clientCAFile, logger: logger)
        if let ca = c.clientCAFile {
            logger.info("client certificates required on /mutate, /filter and /prioritize", metadata: ["clientCA": "\(ca)"])
        }
        let native = await Self.nativeSidecars(c, backend: backend, logger: logger)
        // The engines (vineyardd over RPC, JuiceFS metrics over HTTP) are asked where their bytes are
        // only with a live cluster: offline, the cluster-state file's `cache:` entries stand in for them.
        let engineClient = HTTPClient(eventLoopGroupProvider: .singleton)
        var probe: EngineProbe?
        if case .live = backend, c.askEngines {
            probe = EngineProbe(http: engineClient, timeout: .milliseconds(Int64(c.engineTimeoutSeconds * 1000)))
        }
        let server = LocusServer(
            config: c, backend: backend, certificates: certificates, policy: c.admissionPolicy(nativeSidecars: native),
            staticCache: staticCache, engineProbe: probe, logger: logger)
        let requestDirectory = c.example ? Self.writeExampleRequests(logger: logger) : nil
        let group = server.serviceGroup { port in
            logger.info("serving", metadata: ["port": "\(port)", "address": "\(c.address)", "certificate": "\(certPath)"])
            if c.example {
                // A newcomer's next step, on stdout (the logs are on stderr).
                let host = ["0.0.0.0", "::", ""].contains(c.address) ? "127.0.0.1" : c.address
                let text = ExampleState.tryIt(host: host, port: port, caFile: caPath.map(Self.absolute), requestDirectory: requestDirectory)
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
        let result: Result<Void, any Error>
        do {
            try await group.run()
            result = .success(())
        } catch {
            result = .failure(error)
        }
        if case .live(let live) = backend { await live.shutdown() }
        try? await engineClient.shutdown()
        if case .failure(let error) = result { throw RuntimeFailure(description: "server stopped: \(error)") }
        logger.info("stopped")
    }

    /// The example's request bodies, in a directory of the system's temporary directory (nil,
    /// with a warning, when it cannot be written: the server runs all the same).
    static func writeExampleRequests(logger: Logger) -> String? {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("locus-example-\(getuid())").path
        do {
            try ExampleState.writeRequests(to: dir)
            return dir
        } catch {
            logger.warning(
                "cannot write the example requests", metadata: ["directory": "\(dir)", "error": "\(error.localizedDescription)"])
            return nil
        }
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The configured pair, or a self-signed pair in the cert directory (reused when present),
    /// and the CA that signed it when Locus knows it.
    static func certificatePaths(_ c: ServeConfig, logger: Logger) throws -> (cert: String, key: String, ca: String?) {
        if let cert = c.certFile, let key = c.keyFile { return (cert, key, nil) }
        let dir = c.certDirectory
        let cert = "\(dir)/\(GeneratedCertificates.certificateFile)"
        let key = "\(dir)/\(GeneratedCertificates.keyFile)"
        if (try? CertificateStore.serverConfiguration(certificatePath: cert, keyPath: key)) != nil {
            logger.notice(
                "no --cert/--key given: using the self-signed pair in \(dir)/ (CA: \(dir)/\(GeneratedCertificates.caCertificateFile))")
            return (cert, key, "\(dir)/\(GeneratedCertificates.caCertificateFile)")
        }
        let host = ProcessInfo.processInfo.hostName
        let generated = try CertGenerator.generate(
            dnsNames: ["localhost", "locus", "locus.locus-system.svc"] + (host.isEmpty || host == "localhost" ? [] : [host]),
            ipAddresses: ["127.0.0.1", "::1"])
        do {
            try generated.write(to: dir)
        } catch {
            throw RuntimeFailure(description: "cannot write generated certificates into \(dir)/: \(error.localizedDescription)")
        }
        logger.notice(
            "no --cert/--key given: generated a self-signed pair into \(dir)/ (CA: \(dir)/\(GeneratedCertificates.caCertificateFile))")
        return (cert, key, "\(dir)/\(GeneratedCertificates.caCertificateFile)")
    }

    /// Whether FUSE sidecars are native: from `kubernetesVersion`, else asked once from the API
    /// server (plain sidecars, which work everywhere, when it cannot be asked); offline 1.31.
    static func nativeSidecars(_ c: ServeConfig, backend: ClusterBackend, logger: Logger) async -> Bool {
        if let v = c.kubernetesVersion, let native = MutationConfig.hasNativeSidecars(version: v) { return native }
        guard case .live(let live) = backend else { return true }
        do {
            let version = try await live.client.serverVersion()
            let native = MutationConfig.hasNativeSidecars(major: Int(version.major) ?? 0, minor: version.minorNumber ?? 0)
            logger.info("cluster version read", metadata: ["version": "\(version.major).\(version.minor)", "nativeSidecars": "\(native)"])
            return native
        } catch {
            logger.warning(
                "cannot read the cluster version; FUSE sidecars will be plain first containers (set kubernetesVersion to decide)",
                metadata: ["error": "\(error)"])
            return false
        }
    }

    /// The static cluster state asked for: the built-in example, or a cluster-state file; nil for a live cluster.
    static func clusterState(_ c: ServeConfig) throws -> ClusterStateFile? {
        if c.example { return try ExampleState.clusterState() }
        return try c.clusterState.map(ClusterStateFile.read)
    }

    /// The cluster backend, and the `cache:` entries of a static cluster state (which stand in
    /// for the engines offline).
    static func backend(_ c: ServeConfig, logger: Logger) throws -> (ClusterBackend, [StaticCacheEntry]) {
        // The file's own copy of the objects is gone once the cache holds them.
        if let (cache, entries) = try clusterState(c).map({ ($0.makeClusterCache(), $0.cacheEntries) }) {
            if c.example {
                logger.info("serving the built-in example cluster state")
            } else {
                logger.info("serving a static cluster state", metadata: ["file": "\(c.clusterState ?? "")"])
            }
            // The YAML parse leaves many times more garbage than it keeps, with the objects kept
            // strewn through it: lay them out together, then give the garbage back.
            try cache.compact()
            FreedMemory.release()
            return (.fixed(cache), entries)
        }
        let kube = try KubeConfig.resolve(explicitPath: c.kubeconfig)
        let client = try KubeAPIClient(config: kube, logger: logger)
        logger.info("connecting to the API server", metadata: ["server": "\(kube.server.absoluteString)", "source": "\(kube.source)"])
        return (.live(LiveCluster(client: client, cache: ClusterCache(), logger: logger)), [])
    }
}
