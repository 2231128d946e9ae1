public import Foundation
public import JSON
public import KubeClient
public import Locality

/// A pod that carries the warm-up label, as the controller reads it.
public struct GatedPod: Sendable {
    public var namespace: String
    public var name: String
    public var uid: String
    public var json: JSONValue
    /// Its scheduling gates as stored: the precondition of the patch that lifts Locus's.
    public var gates: [JSONValue]
    /// When the API server created it: the gate has been on since.
    public var createdAt: Date?
    /// What it waits for; nil when the annotation is missing or not Locus's.
    public var wait: WarmWait?

    public init(_ raw: RawPod) {
        let meta = raw.pod.metadata
        namespace = meta.namespace ?? ""
        name = meta.name ?? ""
        uid = meta.uid ?? ""
        json = raw.json
        gates = raw.json["spec"]?["schedulingGates"]?.arrayValue ?? []
        createdAt = meta.creationTimestamp.flatMap(KubeTime.date)
        wait = meta.annotations?[Keys.warmWaiting].flatMap { WarmWait(text: $0) }
    }

    /// Locus's gate is still on.
    public var isGated: Bool { gates.contains { $0["name"]?.stringValue == Keys.warmGate } }

    public var labels: [String: String] { json["metadata"]?["labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:] }

    public var key: String { "\(namespace)/\(name)" }

    /// The JSON patch that lifts Locus's gate and no other, with `outcome` recorded: it applies
    /// only while the gates are still exactly `gates` (a `test`), so a concurrent change is never
    /// overwritten; the API server answers 422 instead, and the controller reads the pod again.
    public func liftPatch(outcome: String) -> JSONValue {
        var ops: [JSONValue] = []
        if isGated {
            let rest = gates.filter { $0["name"]?.stringValue != Keys.warmGate }
            ops.append(["op": "test", "path": "/spec/schedulingGates", "value": .array(gates)])
            ops.append(
                rest.isEmpty
                    ? ["op": "remove", "path": "/spec/schedulingGates"]
                    : ["op": "replace", "path": "/spec/schedulingGates", "value": .array(rest)])
        }
        if labels[Keys.warmGated] != nil {
            ops.append(["op": "remove", "path": .string("/metadata/labels/\(JSONPatch.escape(Keys.warmGated))")])
        }
        if json["metadata"]?["annotations"]?.objectValue != nil {
            ops.append([
                "op": "add", "path": .string("/metadata/annotations/\(JSONPatch.escape(Keys.warmOutcome))"), "value": .string(outcome),
            ])
        } else {
            ops.append(["op": "add", "path": "/metadata/annotations", "value": [Keys.warmOutcome: .string(outcome)]])
        }
        return .array(ops)
    }
}
