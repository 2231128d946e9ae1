import Foundation
import Locality

/// A request kube-scheduler sent that cannot be read; the reason goes back in `Error`.
public struct ExtenderRequestError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// Go's encoding/json matches field names case-insensitively; kube-scheduler writes them in
/// PascalCase (`Pod`, `Nodes`, `NodeNames`) because its types carry no json tags.
func field(_ object: [String: JSONValue], _ name: String) -> JSONValue? {
    if let v = object[name] { return v }
    let lower = name.lowercased()
    return object.first { $0.key.lowercased() == lower }?.value
}

/// `ExtenderArgs` (k8s.io/kube-scheduler/extender/v1): the pod and the candidate nodes, by name
/// (`nodeCacheCapable: true`) or as a full `NodeList`.
public struct ExtenderArgs: Sendable {
    public var pod: JSONValue
    /// Candidate node names as sent. A name sent twice is answered twice: the filter's answer
    /// stays a subset of the input and repeated scores are the same, so nothing is gained by
    /// hashing every name to drop duplicates.
    public var nodeNames: [String]
    /// Present in full-NodeList mode: each candidate's labels, and the list to answer with.
    public var nodeLabels: [String: [String: String]]?
    public var nodeItems: [String: JSONValue]?
    public var nodeListKind: (apiVersion: String?, kind: String?)?

    public var fullNodes: Bool { nodeItems != nil }

    public static func parse<Bytes: ContiguousBytes>(_ body: Bytes) throws -> ExtenderArgs {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes: body)
        } catch {
            throw ExtenderRequestError(description: "body is not ExtenderArgs: \(error)")
        }
        guard let top = json.objectValue else { throw ExtenderRequestError(description: "ExtenderArgs must be a JSON object") }
        guard let pod = field(top, "Pod"), pod.objectValue != nil else {
            throw ExtenderRequestError(description: "ExtenderArgs.Pod is missing")
        }
        var names: [String] = []
        func add(_ name: String) { names.append(name) }
        if let list = field(top, "Nodes"), !list.isNull {
            guard let items = field(list.objectValue ?? [:], "items")?.arrayValue ?? (list.objectValue != nil ? [] : nil) else {
                throw ExtenderRequestError(description: "ExtenderArgs.Nodes must be a NodeList")
            }
            var labels: [String: [String: String]] = [:]
            var byName: [String: JSONValue] = [:]
            for (i, item) in items.enumerated() {
                guard let name = item["metadata"]?["name"]?.stringValue, !name.isEmpty else {
                    throw ExtenderRequestError(description: "ExtenderArgs.Nodes.items[\(i)] has no metadata.name")
                }
                add(name)
                labels[name] = item["metadata"]?["labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
                if byName[name] == nil { byName[name] = item }
            }
            return ExtenderArgs(
                pod: pod, nodeNames: names, nodeLabels: labels, nodeItems: byName,
                nodeListKind: (list["apiVersion"]?.stringValue, list["kind"]?.stringValue))
        }
        guard let list = field(top, "NodeNames"), !list.isNull else {
            throw ExtenderRequestError(description: "ExtenderArgs has neither Nodes nor NodeNames")
        }
        guard let array = list.arrayValue else { throw ExtenderRequestError(description: "ExtenderArgs.NodeNames must be a list of names") }
        names.reserveCapacity(array.count)
        for (i, v) in array.enumerated() {
            guard let name = v.stringValue, !name.isEmpty else {
                throw ExtenderRequestError(description: "ExtenderArgs.NodeNames[\(i)] is not a node name")
            }
            add(name)
        }
        return ExtenderArgs(pod: pod, nodeNames: names, nodeLabels: nil, nodeItems: nil, nodeListKind: nil)
    }
}

/// `ExtenderFilterResult`: the nodes that pass, in the form they came in, and why the others failed.
public struct FilterResult: Sendable, Equatable {
    public var passed: [String]
    /// Nodes that fail now but might pass after preemption.
    public var failed: [String: String]
    /// Nodes no preemption can help.
    public var unresolvable: [String: String]
    public var error: String

    public init(passed: [String], failed: [String: String] = [:], unresolvable: [String: String] = [:], error: String = "") {
        self.passed = passed
        self.failed = failed
        self.unresolvable = unresolvable
        self.error = error
    }

    /// JSON as kube-scheduler reads it: `NodeNames` when it sent names, `Nodes` when it sent a NodeList.
    public func encoded(for args: ExtenderArgs?) -> [UInt8] {
        var o: [String: JSONValue] = [
            "FailedNodes": .object(failed.mapValues { .string($0) }),
            "FailedAndUnresolvableNodes": .object(unresolvable.mapValues { .string($0) }),
            "Error": .string(error),
            "Nodes": .null,
            "NodeNames": .null,
        ]
        if let args, let items = args.nodeItems {
            var list: [String: JSONValue] = ["items": .array(passed.compactMap { items[$0] }), "metadata": [:]]
            list["apiVersion"] = .string(args.nodeListKind?.apiVersion ?? "v1")
            list["kind"] = .string(args.nodeListKind?.kind ?? "NodeList")
            o["Nodes"] = .object(list)
        } else if args != nil {
            o["NodeNames"] = .array(passed.map { .string($0) })
        }
        return JSONValue.object(o).encodedBytes()
    }
}

/// `HostPriorityList`: `[{"Host": name, "Score": 0…10}]`.
public func encodeHostPriorities(_ scores: [(host: String, score: Int)]) -> [UInt8] {
    var out: [UInt8] = [UInt8(ascii: "[")]
    out.reserveCapacity(32 * scores.count + 2)
    for (i, s) in scores.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        out.append(contentsOf: #"{"Host":"#.utf8)
        JSONValue.string(s.host).write(into: &out)
        out.append(contentsOf: #","Score":"#.utf8)
        if (0...9).contains(s.score) { out.append(UInt8(ascii: "0") + UInt8(s.score)) } else { out.append(contentsOf: String(s.score).utf8) }
        out.append(UInt8(ascii: "}"))
    }
    out.append(UInt8(ascii: "]"))
    return out
}
