public import JSON
import Locality

/// The Pod Security Standards a namespace enforces (`pod-security.kubernetes.io/enforce` and
/// `-version`), and the checks of the admission plugin that enforces them, over pod JSON. Locus
/// evaluates what it would inject against them so that a pod the API server would refuse after
/// mutation is answered by Locus with the reason instead.
///
/// The checks follow the Kubernetes pod-security-admission policy (`policy/check_*.go`):
/// baseline's privileged, capabilities, host namespaces, hostPath volumes, host ports, SELinux,
/// seccomp, procMount and AppArmor checks, and restricted's volume types, privilege escalation,
/// non-root, capabilities and seccomp checks, with the versions they start at. Sysctls and
/// Windows host processes are not checked: Locus never injects them.
public struct PodSecurity: Sendable, Equatable {
    public enum Level: String, Sendable, Comparable, CaseIterable {
        case privileged, baseline, restricted

        public static func < (a: Level, b: Level) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    public static let enforceLabel = "pod-security.kubernetes.io/enforce"
    public static let enforceVersionLabel = "pod-security.kubernetes.io/enforce-version"

    public var level: Level
    /// The minor version of `v1.<minor>`; nil for `latest`.
    public var minor: Int?
    /// Set when a label could not be read: the admission plugin then enforces restricted at latest.
    public var labelProblem: String?

    public init(level: Level, minor: Int? = nil) {
        self.level = level
        self.minor = minor
    }

    /// The namespace's enforced level. A namespace without the label is privileged (the
    /// admission plugin's default); a value the plugin cannot read makes it enforce restricted
    /// at latest, as it does.
    public init(namespaceLabels labels: [String: String]) {
        self.init(level: .privileged)
        if let value = labels[Self.enforceLabel] {
            if let l = Level(rawValue: value) {
                level = l
            } else {
                level = .restricted
                labelProblem = "\(Self.enforceLabel)=\(value) is not a level"
            }
        }
        if let version = labels[Self.enforceVersionLabel], version != "latest" {
            if version.hasPrefix("v1."), let m = Int(version.dropFirst(3)), String(m) == version.dropFirst(3) {
                minor = m
            } else {
                level = .restricted
                labelProblem = "\(Self.enforceVersionLabel)=\(version) is not latest or v1.<minor>"
            }
        }
    }

    /// `baseline:latest`, `restricted:v1.30`, as the API server words it.
    public var description: String { "\(level.rawValue):\(minor.map { "v1.\($0)" } ?? "latest")" }

    func applies(since minor: Int) -> Bool { (self.minor ?? Int.max) >= minor }

    /// Capabilities baseline allows containers to add.
    static let baselineCapabilities: Set<String> = [
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID",
        "SETPCAP", "SETUID", "SYS_CHROOT",
    ]
    /// Volume sources restricted allows.
    static let restrictedVolumeSources: Set<String> = [
        "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret",
    ]
    static let seLinuxTypes: Set<String> = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]

    /// Every way `pod` breaks this level, one line each, naming the container or volume.
    public func violations(of pod: JSONValue) -> [String] {
        guard level > .privileged else { return [] }
        let spec = pod["spec"] ?? .null
        var out: [String] = []
        let podContext = spec["securityContext"] ?? .null
        for key in ["hostNetwork", "hostPID", "hostIPC"] where spec[key]?.boolValue == true {
            out.append("\(key)=true")
        }
        for volume in spec["volumes"]?.arrayValue ?? [] {
            let name = volume["name"]?.stringValue ?? "?"
            let sources = (volume.objectValue?.keys.filter { $0 != "name" }) ?? []
            if level == .restricted {
                for s in sources where !Self.restrictedVolumeSources.contains(s) {
                    out.append("volume \(name) uses \(s)")
                }
            } else if sources.contains("hostPath") {
                out.append("volume \(name) uses hostPath")
            }
        }
        out += seccompAndSELinux(podContext, owner: "pod")
        let kinds = [("initContainers", "init container"), ("containers", "container"), ("ephemeralContainers", "ephemeral container")]
        var containers: [(String, JSONValue)] = []
        for (key, word) in kinds {
            for c in spec[key]?.arrayValue ?? [] { containers.append(("\(word) \(c["name"]?.stringValue ?? "?")", c)) }
        }
        for (who, c) in containers {
            let context = c["securityContext"] ?? .null
            if context["privileged"]?.boolValue == true { out.append("\(who) sets securityContext.privileged=true") }
            let added = context["capabilities"]?["add"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if level == .restricted, applies(since: 22) {
                let bad = added.filter { $0 != "NET_BIND_SERVICE" }
                if !bad.isEmpty { out.append("\(who) adds capabilities \(bad.joined(separator: ", "))") }
                let dropped = context["capabilities"]?["drop"]?.arrayValue?.compactMap(\.stringValue) ?? []
                if !dropped.contains("ALL") { out.append("\(who) does not drop capabilities ALL") }
            } else {
                let bad = added.filter { !Self.baselineCapabilities.contains($0) }
                if !bad.isEmpty { out.append("\(who) adds non-default capabilities \(bad.joined(separator: ", "))") }
            }
            let hostPorts = (c["ports"]?.arrayValue ?? []).compactMap { $0["hostPort"]?.int64Value }.filter { $0 != 0 }
            if !hostPorts.isEmpty { out.append("\(who) uses hostPort \(hostPorts.map(String.init).joined(separator: ", "))") }
            if let pm = context["procMount"]?.stringValue, pm != "Default" { out.append("\(who) sets procMount \(pm)") }
            out += seccompAndSELinux(context, owner: who)
            if level == .restricted {
                if applies(since: 8), context["allowPrivilegeEscalation"]?.boolValue != false {
                    out.append("\(who) does not set allowPrivilegeEscalation=false")
                }
                let nonRoot = context["runAsNonRoot"]?.boolValue ?? podContext["runAsNonRoot"]?.boolValue
                if nonRoot != true { out.append("\(who) does not set runAsNonRoot=true") }
                if applies(since: 23), (context["runAsUser"]?.int64Value ?? podContext["runAsUser"]?.int64Value) == 0 {
                    out.append("\(who) sets runAsUser=0")
                }
                if applies(since: 19) {
                    let type = context["seccompProfile"]?["type"]?.stringValue ?? podContext["seccompProfile"]?["type"]?.stringValue
                    if type != "RuntimeDefault" && type != "Localhost" {
                        out.append("\(who) sets no seccompProfile RuntimeDefault or Localhost")
                    }
                }
            }
        }
        return out
    }

    private func seccompAndSELinux(_ context: JSONValue, owner: String) -> [String] {
        var out: [String] = []
        if let type = context["seccompProfile"]?["type"]?.stringValue, type != "RuntimeDefault", type != "Localhost" {
            out.append("\(owner) sets seccompProfile \(type)")
        }
        if let se = context["seLinuxOptions"] {
            if let t = se["type"]?.stringValue, !Self.seLinuxTypes.contains(t) { out.append("\(owner) sets seLinuxOptions.type \(t)") }
            for key in ["user", "role"] where !(se[key]?.stringValue ?? "").isEmpty {
                out.append("\(owner) sets seLinuxOptions.\(key)")
            }
        }
        if let type = context["appArmorProfile"]?["type"]?.stringValue, type != "RuntimeDefault", type != "Localhost" {
            out.append("\(owner) sets appArmorProfile \(type)")
        }
        return out
    }

    /// The violations `after` has that `before` did not: what a mutation would add.
    public func introducedViolations(before: JSONValue, after: JSONValue) -> [String] {
        let existing = Set(violations(of: before))
        return violations(of: after).filter { !existing.contains($0) }
    }
}
