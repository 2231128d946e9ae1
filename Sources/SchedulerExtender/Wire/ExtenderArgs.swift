public import Foundation
public import JSON
import Locality

/// Go's encoding/json matches field names case-insensitively; kube-scheduler writes them in
/// PascalCase (`Pod`, `Nodes`, `NodeNames`) because its types carry no json tags.
func field(_ object: JSONObject, _ name: String) -> JSONValue? {
    if let v = object[name] { return v }
    // Keys that differ only in case: the order they came in is gone, so take one by a fixed rule
    // (the greatest) rather than whichever the dictionary yields first in this process.
    let lower = name.lowercased()
    return object.keys.filter { $0.lowercased() == lower }.max().flatMap { object[$0] }
}

/// `ExtenderArgs` (k8s.io/kube-scheduler/extender/v1): the pod and the candidate nodes, by name
/// (`nodeCacheCapable: true`) or as a full `NodeList`.
public struct ExtenderArgs: Sendable {
    public var pod: JSONValue
    /// Candidate node names as sent. A name sent twice is answered twice: the filter's answer
    /// stays a subset of the input and repeated scores are the same, so nothing is gained by
    /// hashing every name to drop duplicates.
    public var nodes: NodeNameList
    /// The same as strings (one allocation per long name: the request path reads `nodes`).
    public var nodeNames: [String] { Array(nodes) }
    /// Present in full-NodeList mode: each candidate's labels.
    public var nodeLabels: [String: [String: String]]?
    /// Full-NodeList mode: where each node's object is in `raw`, to answer with its own bytes.
    var nodeRanges: [String: Range<Int>]?
    var raw: [UInt8] = []
    public var nodeListKind: (apiVersion: String?, kind: String?)?

    public var fullNodes: Bool { nodeRanges != nil }

    /// Reads ExtenderArgs, keeping a copy of the bytes for `FilterResult.encoded(for:)`.
    public static func parse<Bytes: ContiguousBytes>(_ body: Bytes) throws -> ExtenderArgs {
        let raw: [UInt8] = body.withUnsafeBytes { Array($0) }
        var args = try raw.withUnsafeBytes { try parse(borrowing: $0) }
        args.raw = raw
        return args
    }

    /// Reads ExtenderArgs without copying the body. A full NodeList's Node objects are checked to
    /// be JSON but not built: only each node's metadata is read, and the passing nodes are answered
    /// with their own bytes (`FilterResult.write(for:raw:into:)` with the same `raw`).
    public static func parse(borrowing raw: UnsafeRawBufferPointer) throws -> ExtenderArgs {
        let json: JSONValue
        let elements: [LazyElement]
        let nameElements: [LazyElement]
        do {
            let parsed = try JSONValue.parse(bytes: raw, lazyArraysAt: [["Nodes", "items"], ["NodeNames"]], keep: ["metadata"])
            (json, elements, nameElements) = (parsed.value, parsed.elements[0], parsed.elements[1])
        } catch {
            throw ExtenderRequestError(description: "body is not ExtenderArgs: \(error)")
        }
        guard let top = json.objectValue else { throw ExtenderRequestError(description: "ExtenderArgs must be a JSON object") }
        guard let pod = field(top, "Pod"), pod.objectValue != nil else {
            throw ExtenderRequestError(description: "ExtenderArgs.Pod is missing")
        }
        var names: [String] = []
        if let list = field(top, "Nodes"), !list.isNull {
            guard let listObject = list.objectValue, field(listObject, "items").map({ $0.arrayValue != nil || $0.isNull }) ?? true else {
                throw ExtenderRequestError(description: "ExtenderArgs.Nodes must be a NodeList")
            }
            var labels: [String: [String: String]] = [:]
            var ranges: [String: Range<Int>] = [:]
            names.reserveCapacity(elements.count)
            for (i, item) in elements.enumerated() {
                guard let name = item.kept["metadata"]?["name"]?.stringValue, !name.isEmpty else {
                    throw ExtenderRequestError(description: "ExtenderArgs.Nodes.items[\(i)] has no metadata.name")
                }
                names.append(name)
                labels[name] = item.kept["metadata"]?["labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
                if ranges[name] == nil { ranges[name] = item.range }
            }
            return ExtenderArgs(
                pod: pod, nodes: NodeNameList(names), nodeLabels: labels, nodeRanges: ranges,
                nodeListKind: (list["apiVersion"]?.stringValue, list["kind"]?.stringValue))
        }
        guard let list = field(top, "NodeNames"), !list.isNull else {
            throw ExtenderRequestError(description: "ExtenderArgs has neither Nodes nor NodeNames")
        }
        // The array's elements were left unbuilt: their byte ranges are in `nameElements`.
        guard list.arrayValue != nil else { throw ExtenderRequestError(description: "ExtenderArgs.NodeNames must be a list of names") }
        switch NodeNameList.fromJSONStrings(nameElements.map(\.range), in: raw) {
        case .success(let nodes):
            return ExtenderArgs(pod: pod, nodes: nodes, nodeLabels: nil, nodeRanges: nil, nodeListKind: nil)
        case .failure(let bad):
            throw ExtenderRequestError(description: "ExtenderArgs.NodeNames[\(bad.index)] is not a node name")
        }
    }
}

extension ExtenderArgs {
    /// A names-only request (`nodeCacheCapable: true`), as kube-scheduler sends it.
    public init(pod: JSONValue, nodeNames: [String]) {
        self.pod = pod
        self.nodes = NodeNameList(nodeNames)
    }
}
