import Foundation
public import JSON
import Locality

/// The members of a container no decision reads: what the app runs (image, command, args,
/// working directory, environment), its resources, probes and lifecycle hooks, and its terminal
/// settings. A pod's containers are often mostly these (a long `env` above all), so `/mutate`
/// reads the pod without them (`AdmissionRequest.parse(_:leavingOutContainerDetails:)`) and builds
/// what the decision reads: names, mounts, `envFrom`, ports, security contexts, restart policies.
///
/// A decision over such a pod holds when its patch leaves these members where they are: it
/// changes the pod's own containers member by member, never writes a member left out (shared
/// memory sets a variable in `env`: `Admission.review(body:)` reads such a pod whole from the
/// start), never writes or moves a whole container of the pod, and never pairs one container with
/// another (the diff pairs named elements by name; a pairing by place would change a name).
/// `patchKeepsThem` checks exactly that on the patch; when it fails, the review is read whole and
/// decided again.
public enum ContainerDetails {
    /// The members of each container (app, init and ephemeral) left out.
    public static let leftOut: Set<String> = [
        "image", "command", "args", "workingDir", "env", "resources", "resizePolicy", "livenessProbe", "readinessProbe",
        "startupProbe", "lifecycle", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy", "stdin",
        "stdinOnce", "tty",
    ]
    /// The lists of containers in a pod's spec.
    static let lists = ["containers", "initContainers", "ephemeralContainers"]

    /// The pod's spec with its containers read without `leftOut`.
    static let specSelection: JSONSelection = {
        let container = JSONSelection.elements(.allExcept(JSONSelectionMembers(leftOut.sorted().map { ($0, .skip) })))
        return .allExcept(JSONSelectionMembers(lists.map { ($0, container) }))
    }()

    /// The same as bytes, for `patchKeepsThem`.
    static let leftOutBytes: [[UInt8]] = leftOut.map { Array($0.utf8) }
    static let listBytes: [[UInt8]] = lists.map { Array($0.utf8) }
    static let specBytes = Array("/spec".utf8)
    static let nameBytes = Array("name".utf8)

    /// Whether `patch`, made from `original` (read without `leftOut`), is the
    /// patch the whole pod would get: see the type's description. Paths are read as bytes (this
    /// runs for every pod `/mutate` changes).
    public static func patchKeepsThem(_ patch: [PatchOperation], original: JSONValue) -> Bool {
        guard case .object(let pod) = original, case .object(let spec)? = pod["spec"] else {
            return true  // no spec object: nothing was left out
        }
        let before = lists.map { spec[$0]?.arrayValue ?? [] }
        for op in patch {
            var path = op.path
            if !path.withUTF8({ keeps(op, path: $0, before: before) }) { return false }
        }
        return true
    }

    /// Whether one operation of the patch keeps the details: its `path` is "/spec/" list ("/"
    /// index ("/" member ...)?)? or elsewhere.
    private static func keeps(_ op: PatchOperation, path p: UnsafeBufferPointer<UInt8>, before: [[JSONValue]]) -> Bool {
        let n = specBytes.count
        let inSpec = p.count >= n && same(UnsafeBufferPointer(rebasing: p[..<n]), specBytes)
        guard inSpec, p.count > n, p[n] == UInt8(ascii: "/") else {
            // Elsewhere, or the whole pod or spec.
            return !(p.isEmpty || (inSpec && p.count == n))
        }
        var at = n + 1
        func token() -> UnsafeBufferPointer<UInt8> {
            let start = at
            while at < p.count, p[at] != UInt8(ascii: "/") { at += 1 }
            defer { at += 1 }  // past the slash: beyond the end when this was the last token
            return UnsafeBufferPointer(rebasing: p[start..<at])
        }
        let name = token()
        guard let which = listBytes.firstIndex(where: { same(name, $0) }) else { return true }
        let containers = before[which]
        guard at <= p.count else { return containers.isEmpty }  // the whole list: only where the pod had none
        let digits = token()
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return false }
        let index = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard at <= p.count else {
            // A whole container: only a new one (a name none of the pod's containers has).
            guard op.op == .add, let added = op.value?["name"]?.stringValue else { return false }
            return !before.contains { $0.contains { $0["name"]?.stringValue == added } }
        }
        // Inside a container of the pod (operations inside an element come before any that move
        // elements, so the index is the pod's): not a member left out, and not its name, which
        // changes only where the diff pairs two containers.
        let member = token()
        guard index < containers.count, let own = containers[index]["name"]?.stringValue, !same(member, nameBytes),
            !leftOutBytes.contains(where: { same(member, $0) })
        else { return false }
        var count = 0
        for c in containers where c["name"]?.stringValue == own { count += 1 }
        return count == 1
    }

    private static func same(_ a: UnsafeBufferPointer<UInt8>, _ b: [UInt8]) -> Bool {
        a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b, a.count) == 0)
    }
}

extension ResolvedDataset {
    /// Whether wiring this dataset reads and writes the app containers' `env`, a detail left out
    /// (shared memory sets its socket's variable there, unless a container sets it already).
    var setsContainerEnvironment: Bool { access.isSharedMemory }
}
