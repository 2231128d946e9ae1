import Foundation
import JSON

/// A pod being rewritten: the parts Locus touches, taken out of the JSON once and put back at the end.
struct PodDraft {
    var pod: JSONValue
    var spec: JSONObject
    var containers: [JSONValue]
    var initContainers: [JSONValue]
    var volumes: [JSONValue]
    /// The names of the pod's containers (ephemeral ones too) and volumes, read when an injection
    /// first names something new (most pods need no new name). Every name added after that is
    /// added through `unique`, so the sets stay whole.
    lazy var takenContainerNames: Set<String> = Set(
        (containers + initContainers + (spec["ephemeralContainers"]?.arrayValue ?? [])).compactMap { $0["name"]?.stringValue })
    lazy var takenVolumeNames: Set<String> = Set(volumes.compactMap { $0["name"]?.stringValue })
    /// Whether to write the explanations (`locus mutate` prints them; the webhook does not need them).
    var explain = true

    init(_ pod: JSONValue) {
        self.pod = pod
        spec = pod["spec"]?.objectValue ?? [:]
        containers = spec["containers"]?.arrayValue ?? []
        initContainers = spec["initContainers"]?.arrayValue ?? []
        volumes = spec["volumes"]?.arrayValue ?? []
    }

    /// The pod with the draft's parts put back (the draft is used up: its parts go in uncopied).
    consuming func finish() -> JSONValue {
        spec["containers"] = .array(containers)
        if !initContainers.isEmpty { spec["initContainers"] = .array(initContainers) }
        if !volumes.isEmpty { spec["volumes"] = .array(volumes) }
        pod["spec"] = .object(spec)
        return pod
    }

    /// A DNS-label name starting with `base` that nothing in the pod uses yet.
    static func unique(_ base: String, taken: inout Set<String>) -> String {
        // Most bases are DNS labels already (a DaemonSet's volume names, the sidecar's name): the
        // base itself, when nothing uses it yet.
        if isDNSLabel(base, maxLength: 63), taken.insert(base).inserted { return base }
        func clip(_ s: String, _ n: Int) -> String {
            if s.utf8.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "\r") }) {
                // ASCII without CR (so one byte is one Character; every Kubernetes name): byte by
                // byte, the same result as the Unicode path below.
                var bytes = s.utf8.prefix(n).map { b -> UInt8 in
                    switch b {
                    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): b
                    case UInt8(ascii: "A")...UInt8(ascii: "Z"): b + 32
                    default: UInt8(ascii: "-")
                    }
                }
                while bytes.last == UInt8(ascii: "-") { bytes.removeLast() }
                return String(decoding: bytes, as: UTF8.self)
            }
            var t = String(s.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(n))
            while t.hasSuffix("-") { t.removeLast() }
            return t
        }
        var name = clip(base, 63)
        var i = 2
        while taken.contains(name) {
            let suffix = "-\(i)"
            name = clip(base, 63 - suffix.count) + suffix
            i += 1
        }
        taken.insert(name)
        return name
    }

    /// Whether `s` is what `unique` makes of it: at most `maxLength` bytes of lowercase letters,
    /// digits and `-`, not empty and not ending in `-`.
    static func isDNSLabel(_ s: String, maxLength: Int) -> Bool {
        let utf8 = s.utf8
        guard !utf8.isEmpty, utf8.count <= maxLength, utf8.last != UInt8(ascii: "-") else { return false }
        return utf8.allSatisfy { b in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
                || b == UInt8(ascii: "-")
        }
    }

    mutating func setAnnotation(_ key: String, _ value: String) {
        guard case .object(var top) = pod else { return }
        pod = .null  // the pod's object is changed where it is, not copied
        top.modifyObject("metadata") { meta in meta.modifyObject("annotations") { $0[key] = .string(value) } }
        pod = .object(top)
    }

    /// Rewrites every app container mount of `volume` (init containers too when asked); returns how many.
    mutating func rewriteMounts(of volume: String, includeInit: Bool, _ change: (inout JSONValue) -> Void) -> Int {
        var count = 0
        func apply(_ list: inout [JSONValue]) {
            for i in list.indices {
                guard var mounts = list[i]["volumeMounts"]?.arrayValue else { continue }
                for j in mounts.indices where mounts[j]["name"]?.stringValue == volume {
                    change(&mounts[j])
                    count += 1
                }
                list[i]["volumeMounts"] = .array(mounts)
            }
        }
        apply(&containers)
        if includeInit { apply(&initContainers) }
        return count
    }

    /// Sets `mountPropagation` on every app container mount of `volume`; returns how many.
    mutating func setPropagation(volume: String, to mode: String, includeInit: Bool) -> Int {
        rewriteMounts(of: volume, includeInit: includeInit) { $0["mountPropagation"] = .string(mode) }
    }

    /// Replaces the volume named `name` (it keeps its name, so every mount of it still holds).
    mutating func replaceVolume(named name: String, with source: (key: String, value: JSONValue)) {
        guard let i = volumes.firstIndex(where: { $0["name"]?.stringValue == name }) else { return }
        var v: JSONObject = ["name": .string(name)]
        v[source.key] = source.value
        volumes[i] = .object(v)
    }

    static func shellQuote(_ s: String) -> String {
        if !s.utf8.contains(UInt8(ascii: "'")) { return "'" + s + "'" }
        var out: [UInt8] = [UInt8(ascii: "'")]
        for b in s.utf8 {
            if b == UInt8(ascii: "'") { out += Array("'\\''".utf8) } else { out.append(b) }
        }
        out.append(UInt8(ascii: "'"))
        return String(decoding: out, as: UTF8.self)
    }
}
