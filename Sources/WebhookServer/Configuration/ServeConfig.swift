import Foundation
import KubeClient
public import Logging
public import Mutators
public import SchedulerExtender
import Yams

/// Everything `locus serve` needs. Sources, lowest precedence first: built-in defaults, the
/// YAML config file (`--config`), `LOCUS_*` environment variables, command-line flags.
public struct ServeConfig: Sendable, Equatable {
    public var address = "0.0.0.0"
    public var port = 8443
    public var certFile: String?
    public var keyFile: String?
    /// CA (PEM) that the callers' client certificates must chain to; set, the webhook and
    /// extender routes refuse clients without one (kube-apiserver's AdmissionConfiguration
    /// kubeconfig, the extender's tlsConfig). Health and metrics stay open.
    public var clientCAFile: String?
    /// Where generated certificates go when no cert/key is given.
    public var certDirectory = "certs"
    /// How often certificate files are checked for rotation.
    public var certReloadSeconds: Double = 10
    public var kubeconfig: String?
    public var clusterState: String?
    public var example = false
    public var logLevel: Logger.Level = .info
    public var logFormat: LogFormat = .json
    /// AdmissionReview bodies up to the API server's own limit are accepted.
    public var maxRequestBytes = 3 * 1024 * 1024
    /// Reviews up to this size are answered on the connection's event loop (no task hop);
    /// larger ones in the router's task, so a huge pod cannot hold up the loop. 0: all routed.
    public var eventLoopReviewBytes = 128 * 1024
    /// Extender requests (a full NodeList of 1,000+ nodes is several MB).
    public var maxExtenderRequestBytes = 32 * 1024 * 1024
    /// Connections idle for this long are closed.
    public var idleTimeoutSeconds: Double = 60
    /// At most this many connections at once; past it new connections wait until one closes.
    public var maxConnections = 1024
    /// A request's head must arrive within this of its first byte…
    public var requestHeaderTimeoutSeconds: Double = 10
    /// …and its body within this of the head; else the connection is closed.
    public var requestBodyTimeoutSeconds: Double = 30
    /// On SIGTERM, keep serving (not ready) this long before refusing new connections.
    public var shutdownDelaySeconds: Double = 5
    /// On SIGTERM, in-flight requests get this long to finish.
    public var shutdownGraceSeconds: Double = 20
    /// Pods Locus cannot wire (missing dataset, other namespace, …): denied, or admitted with a warning.
    public var onFailure = AdmissionPolicy.OnFailure.deny
    /// FUSE mode for pods opted in with `locus.dev/inject`.
    public var fuseMode = MutationConfig.FuseMode.serverful
    /// FUSE sidecars a namespace's Pod Security forbids: deny, or serve them serverful.
    public var podSecurityFallback = MutationConfig.PodSecurityFallback.deny
    /// Extended resource of the FUSE device for unprivileged sidecars; empty: none.
    public var fuseDeviceResource = MutationConfig().fuseDeviceResource
    /// `major.minor` of the cluster; unset: read once from the API server (1.31 offline).
    public var kubernetesVersion: String?
    public var sharedMemoryMountPath = "/var/run/vineyard"
    /// Node directories a shared-memory engine's socket directory (a hostPath in the pod) may lie in.
    public var socketRoots = MutationConfig().socketRoots
    public var envIntoInitContainers = true
    public var schedulingHints = true
    public var avoidCacheNodes = true
    /// One AdmissionReview warning per mutated pod naming what was wired.
    public var announceInjections = true
    public var memoryWeight = 1.0
    public var ssdWeight = 0.5
    public var hddWeight = 0.25
    public var sharedMemoryBonus = 2
    public var topologyNodeScore = 4
    public var topologyZoneScore = 2
    public var topologyRegionScore = 1
    /// A locality figure older than this reads as unknown (never as a reason to fail a node).
    public var localityTTLSeconds: Double = 120
    /// How often the locality index is refreshed from the caches.
    public var localityRefreshSeconds: Double = 10
    /// Ask the cache engines themselves (vineyardd RPC, JuiceFS metrics) where their bytes are (live clusters only).
    public var askEngines = true
    /// Bound on each engine exchange (connect included); an engine that does not answer in time adds nothing.
    public var engineTimeoutSeconds: Double = 2

    public enum LogFormat: String, Sendable, Equatable, CaseIterable { case json, text }

    public init() {}

    /// Keys of the config file, with what each means (for errors and the README).
    public static let fileKeys: [String: String] = [
        "address": "bind address (default 0.0.0.0)",
        "port": "TLS port (default 8443)",
        "certFile": "serving certificate, PEM",
        "keyFile": "serving key, PEM",
        "clientCAFile": "CA (PEM) that callers' client certificates must chain to; set, /mutate, /filter and /prioritize refuse clients without one (default: none asked for)",
        "certDirectory": "where a self-signed pair is generated when no certificate is given (default certs)",
        "certReloadSeconds": "how often certificate files are checked for rotation (default 10)",
        "kubeconfig": "kubeconfig path (default $KUBECONFIG, then in-cluster)",
        "clusterState": "cluster-state YAML; no cluster needed",
        "example": "serve the built-in example state (default false)",
        "logLevel": "trace, debug, info, notice, warning, error, critical (default info)",
        "logFormat": "json or text (default json)",
        "maxRequestBytes": "largest AdmissionReview accepted (default 3145728, the API server's own limit)",
        "eventLoopReviewBytes": "AdmissionReviews up to this size are answered on the connection's event loop, larger ones in a task (default 131072; 0: all in a task)",
        "maxExtenderRequestBytes": "largest extender request accepted (default 33554432)",
        "idleTimeoutSeconds": "idle keep-alive connections are closed after this (default 60)",
        "shutdownGraceSeconds": "time in-flight requests get on SIGTERM (default 20)",
        "shutdownDelaySeconds": "on SIGTERM, /readyz turns 503 and new requests are still served this long, while endpoints drop the pod (default 5)",
        "maxConnections": "most connections open at once; past it new ones wait until one closes (default 1024)",
        "requestHeaderTimeoutSeconds": "a request's head must arrive within this of its first byte, else the connection is closed (default 10)",
        "requestBodyTimeoutSeconds": "a request's body must arrive within this of its head, else the connection is closed (default 30)",
        "onFailure": "deny or allow: pods naming a dataset Locus cannot serve are denied with the reason, or admitted without it and warned (default deny)",
        "fuseMode": "serverful or sidecar: FUSE mode for pods opted in with locus.dev/inject (default serverful)",
        "podSecurityFallback": "deny or serverful: a FUSE sidecar the namespace's Pod Security level (pod-security.kubernetes.io/enforce) forbids is denied with the reason, or the dataset is served in serverful mode with a warning (default deny)",
        "fuseDeviceResource": "extended resource an unprivileged FUSE sidecar requests for /dev/fuse from a device plugin; empty for none (default fluid.io/fuse)",
        "kubernetesVersion": "cluster version major.minor; decides native sidecars (default: asked from the API server once; 1.31 offline)",
        "sharedMemoryMountPath": "where shared-memory sockets appear in app containers (default /var/run/vineyard)",
        "socketRoots": "node directories a shared-memory engine's socket directory must lie in, a list or comma-separated (default /runtime-mnt/vineyard, /var/run/vineyard-kubernetes)",
        "envIntoInitContainers": "envFrom dataset ConfigMaps into init containers too (default true)",
        "schedulingHints": "add preferred node affinity towards the dataset's cache nodes (default true)",
        "avoidCacheNodes": "pods without datasets prefer nodes without caches (default true)",
        "announceInjections": "tell the pod's owner in an AdmissionReview warning which datasets were wired and how (default true)",
        "memoryWeight": "scoring weight of a byte cached in memory (default 1.0)",
        "ssdWeight": "scoring weight of a byte cached on SSD (default 0.5)",
        "hddWeight": "scoring weight of a byte cached on HDD (default 0.25)",
        "sharedMemoryBonus": "points (0-10) added on nodes holding a shared-memory copy the pod reads by IPC (default 2)",
        "topologyNodeScore": "when nothing is cached anywhere: points (0-10) per dataset for a node running its cache worker (default 4)",
        "topologyZoneScore": "when nothing is cached anywhere: points per dataset for a node in a cache worker's zone (default 2)",
        "topologyRegionScore": "when nothing is cached anywhere: points per dataset for a node in a cache worker's region (default 1)",
        "localityTTLSeconds": "locality figures older than this count as unknown (default 120)",
        "localityRefreshSeconds": "how often the locality index is refreshed (default 10)",
        "askEngines": "ask the cache engines themselves (vineyardd RPC, JuiceFS metrics) where their bytes are; live clusters only (default true)",
        "engineTimeoutSeconds": "bound on each engine exchange, connect included (default 2)",
    ]

    /// Applies a YAML config file. Unknown keys and wrong types are errors.
    public mutating func apply(yaml: String, source: String) throws {
        let root: Any?
        do {
            root = try Yams.load(yaml: yaml)
        } catch {
            throw ConfigError("config \(source): not valid YAML")
        }
        guard let root else { return }  // an empty file
        guard let map = root as? [String: Any] else {
            throw ConfigError("config \(source): expected a mapping of settings at the top level")
        }
        for key in map.keys.sorted() where Self.fileKeys[key] == nil {
            throw ConfigError("config \(source): unknown key \"\(key)\" (known: \(Self.fileKeys.keys.sorted().joined(separator: ", ")))")
        }
        for (key, value) in map {
            try set(key, value, source: "config \(source)")
        }
    }

    /// Applies `LOCUS_<KEY>` variables (`LOCUS_PORT`, `LOCUS_CERT_FILE`, `LOCUS_LOG_LEVEL`, …).
    public mutating func apply(environment: [String: String]) throws {
        for key in Self.fileKeys.keys.sorted() {
            let env = Self.environmentName(key)
            if let value = environment[env] { try set(key, value, source: "environment \(env)") }
        }
    }

    /// `LOCUS_` and the key in upper snake case; an acronym stays one word
    /// (`localityTTLSeconds` → `LOCUS_LOCALITY_TTL_SECONDS`).
    public static func environmentName(_ key: String) -> String {
        let chars = Array(key)
        var out = "LOCUS_"
        for (i, ch) in chars.enumerated() {
            if i > 0, ch.isUppercase {
                let previous = chars[i - 1]
                let next = i + 1 < chars.count ? chars[i + 1] : nil
                if !previous.isUppercase || next?.isLowercase == true { out += "_" }
            }
            out += ch.uppercased()
        }
        return out
    }

    mutating func set(_ key: String, _ value: Any, source: String) throws {
        func string() throws -> String {
            if let s = value as? String { return s }
            if let i = value as? Int { return String(i) }
            if let d = value as? Double { return String(d) }
            if let b = value as? Bool { return String(b) }
            throw ConfigError("\(source): \(key) must be a string")
        }
        func int(_ range: ClosedRange<Int>) throws -> Int {
            let i = (value as? Int) ?? (value as? String).flatMap { Int($0) }
            guard let i, range.contains(i) else {
                throw ConfigError("\(source): \(key) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return i
        }
        /// A YAML or environment number: an integer, a decimal, or a string holding one.
        func number() -> Double? {
            (value as? Double) ?? (value as? Int).map(Double.init) ?? (value as? String).flatMap { Double($0) }
        }
        func seconds() throws -> Double {
            guard let d = number(), d > 0, d.isFinite else { throw ConfigError("\(source): \(key) must be a positive number of seconds") }
            return d
        }
        func weight() throws -> Double {
            guard let d = number(), d >= 0, d <= 1000 else { throw ConfigError("\(source): \(key) must be a number in 0...1000") }
            return d
        }
        func bool() throws -> Bool {
            if let b = value as? Bool { return b }
            switch (value as? String)?.lowercased() {
            case "true", "1", "yes": return true
            case "false", "0", "no": return false
            default: throw ConfigError("\(source): \(key) must be true or false")
            }
        }
        switch key {
        case "address": address = try string()
        case "port": port = try int(0...65535)
        case "certFile": certFile = try string()
        case "keyFile": keyFile = try string()
        case "certDirectory": certDirectory = try string()
        case "certReloadSeconds": certReloadSeconds = try seconds()
        case "kubeconfig": kubeconfig = try string()
        case "clusterState": clusterState = try string()
        case "example": example = try bool()
        case "logLevel":
            guard let l = Logger.Level(rawValue: try string().lowercased()) else {
                throw ConfigError("\(source): logLevel must be one of trace, debug, info, notice, warning, error, critical")
            }
            logLevel = l
        case "logFormat":
            guard let f = LogFormat(rawValue: try string().lowercased()) else {
                throw ConfigError("\(source): logFormat must be json or text")
            }
            logFormat = f
        case "maxRequestBytes": maxRequestBytes = try int(1024...(64 << 20))
        case "eventLoopReviewBytes": eventLoopReviewBytes = try int(0...(64 << 20))
        case "maxExtenderRequestBytes": maxExtenderRequestBytes = try int(1024...(512 << 20))
        case "idleTimeoutSeconds": idleTimeoutSeconds = try seconds()
        case "clientCAFile": clientCAFile = try string()
        case "shutdownDelaySeconds":
            guard let d = number(), d >= 0, d.isFinite else { throw ConfigError("\(source): shutdownDelaySeconds must be 0 or a positive number of seconds") }
            shutdownDelaySeconds = d
        case "shutdownGraceSeconds": shutdownGraceSeconds = try seconds()
        case "maxConnections": maxConnections = try int(1...1_000_000)
        case "requestHeaderTimeoutSeconds": requestHeaderTimeoutSeconds = try seconds()
        case "requestBodyTimeoutSeconds": requestBodyTimeoutSeconds = try seconds()
        case "onFailure":
            guard let v = AdmissionPolicy.OnFailure(rawValue: try string().lowercased()) else {
                throw ConfigError("\(source): onFailure must be deny or allow")
            }
            onFailure = v
        case "fuseMode":
            guard let v = MutationConfig.FuseMode(rawValue: try string().lowercased()) else {
                throw ConfigError("\(source): fuseMode must be serverful or sidecar")
            }
            fuseMode = v
        case "podSecurityFallback":
            guard let v = MutationConfig.PodSecurityFallback(rawValue: try string().lowercased()) else {
                throw ConfigError("\(source): podSecurityFallback must be deny or serverful")
            }
            podSecurityFallback = v
        case "fuseDeviceResource":
            let v = try string().trimmingCharacters(in: .whitespaces)
            guard v.isEmpty || v.split(separator: "/").count == 2 && !v.contains(" ") else {
                throw ConfigError("\(source): fuseDeviceResource must be an extended resource name like fluid.io/fuse, or empty")
            }
            fuseDeviceResource = v
        case "kubernetesVersion":
            let v = try string()
            guard MutationConfig.hasNativeSidecars(version: v) != nil else {
                throw ConfigError("\(source): kubernetesVersion must look like 1.30 (major.minor)")
            }
            kubernetesVersion = v
        case "socketRoots":
            let list: [String]
            if let items = value as? [Any] {
                list = items.map { "\($0)" }
            } else {
                list = try string().split(separator: ",").map(String.init)
            }
            let roots = list.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for r in roots where !r.hasPrefix("/") || r.split(separator: "/").isEmpty || r.split(separator: "/").contains("..") {
                throw ConfigError("\(source): socketRoots: \"\(r)\" must be an absolute directory other than / and without '..'")
            }
            socketRoots = roots
        case "sharedMemoryMountPath":
            let v = try string()
            guard v.hasPrefix("/"), v.count > 1, !v.split(separator: "/").contains("..") else {
                throw ConfigError("\(source): sharedMemoryMountPath must be an absolute path without '..'")
            }
            sharedMemoryMountPath = v
        case "memoryWeight": memoryWeight = try weight()
        case "ssdWeight": ssdWeight = try weight()
        case "hddWeight": hddWeight = try weight()
        case "sharedMemoryBonus": sharedMemoryBonus = try int(0...10)
        case "topologyNodeScore": topologyNodeScore = try int(0...10)
        case "topologyZoneScore": topologyZoneScore = try int(0...10)
        case "topologyRegionScore": topologyRegionScore = try int(0...10)
        case "localityTTLSeconds": localityTTLSeconds = try seconds()
        case "localityRefreshSeconds": localityRefreshSeconds = try seconds()
        case "askEngines": askEngines = try bool()
        case "engineTimeoutSeconds": engineTimeoutSeconds = try seconds()
        case "envIntoInitContainers": envIntoInitContainers = try bool()
        case "schedulingHints": schedulingHints = try bool()
        case "avoidCacheNodes": avoidCacheNodes = try bool()
        case "announceInjections": announceInjections = try bool()
        default: throw ConfigError("\(source): unknown key \"\(key)\"")
        }
    }

    /// The admission policy these settings describe; `nativeSidecars` comes from the cluster version.
    public func admissionPolicy(nativeSidecars: Bool) -> AdmissionPolicy {
        var p = AdmissionPolicy()
        p.onFailure = onFailure
        p.mutation.defaultFuseMode = fuseMode
        p.mutation.nativeSidecars = nativeSidecars
        p.mutation.sharedMemoryMountPath = sharedMemoryMountPath
        p.mutation.socketRoots = socketRoots
        p.mutation.envIntoInitContainers = envIntoInitContainers
        p.mutation.schedulingHints = schedulingHints
        p.mutation.avoidCacheNodes = avoidCacheNodes
        p.mutation.podSecurityFallback = podSecurityFallback
        p.mutation.fuseDeviceResource = fuseDeviceResource
        p.announceInjections = announceInjections
        return p
    }

    public var extenderConfig: ExtenderConfig {
        var e = ExtenderConfig()
        e.memoryWeight = memoryWeight
        e.ssdWeight = ssdWeight
        e.hddWeight = hddWeight
        e.sharedMemoryBonus = sharedMemoryBonus
        e.topologyNodeScore = topologyNodeScore
        e.topologyZoneScore = topologyZoneScore
        e.topologyRegionScore = topologyRegionScore
        return e
    }

    /// Checks combinations that each source alone cannot.
    public func validate() throws {
        if (certFile == nil) != (keyFile == nil) {
            throw ConfigError("--cert and --key go together: give both or neither")
        }
        if memoryWeight + ssdWeight + hddWeight == 0 {
            throw ConfigError("memoryWeight, ssdWeight and hddWeight cannot all be 0: nothing would be scored")
        }
        if example && clusterState != nil {
            throw ConfigError("--example and --cluster-state are alternatives: give one")
        }
    }
}
