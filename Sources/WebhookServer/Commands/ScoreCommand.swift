public import ArgumentParser
import Foundation
import JSON
import KubeClient
import Locality
import SchedulerExtender

/// `locus score POD.yaml`: the extender's filter verdict and score for every node, offline,
/// from the same code as `/filter` and `/prioritize`.
public struct Score: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Show each node's filter verdict and score for a pod, with the cached bytes behind it.")

    @Argument(help: "Pod manifest, YAML or JSON.")
    var pod: String
    @Option(help: "Cluster-state YAML (datasets, runtimes, PVCs, nodes, per-node cache bytes); default: the built-in example.")
    var clusterState: String?
    @Option(help: "YAML config file (same keys as `locus serve`: weights, sharedMemoryBonus).")
    var config: String?
    public enum Output: String, ExpressibleByArgument, CaseIterable { case text, json, yaml }

    @Option(help: "text (default), json or yaml: each node's verdict, score, and the bytes or topology behind it.")
    var output: Output = .text

    public init() {}

    public func run() throws {
        let (c, state, manifest) = try OfflineInputs.load(config: config, clusterState: clusterState, pod: pod, doing: "scoring")
        let cache = state.makeClusterCache()
        let feeds = LocalityFeeds(
            cache: cache, index: LocalityIndex(ttl: c.localityTTLSeconds), staticEntries: state.cacheEntries)
        feeds.refresh()
        let nodes = cache.nodes.list().compactMap(\.metadata.name).sorted()
        let (plan, verdicts) = Extender.verdicts(
            ExtenderArgs(pod: manifest, nodeNames: nodes), cluster: cache, locality: feeds.index.snapshot(), config: c.extenderConfig)
        switch output {
        case .json: print(Self.json(plan, verdicts).jsonString)
        case .yaml: print(YAMLBridge.yaml(Self.json(plan, verdicts)), terminator: "")
        case .text: print(Self.text(plan, verdicts), terminator: "")
        }
    }

    static func json(_ plan: PodPlan, _ verdicts: [NodeVerdict]) -> JSONValue {
        [
            "pod": .string("\(plan.namespace)/\(plan.name)"),
            "datasets": .array(plan.datasets.map { .string("\($0.ref) (\($0.engine))") }),
            "problems": .array(plan.problems.map { .string($0) }),
            "nodes": .array(
                verdicts.map { v in
                    [
                        "node": .string(v.node), "passes": .bool(v.failure == nil), "reason": v.failure.map { .string($0) } ?? .null,
                        "score": .integer(Int64(v.score)),
                        "bytes": .object(
                            JSONObject(
                                uniqueKeysWithValues: v.bytes.map { (k, b) in
                                    (
                                        k.description,
                                        ["memory": .integer(b.memory), "ssd": .integer(b.ssd), "hdd": .integer(b.hdd)] as JSONValue
                                    )
                                })),
                        "sharedMemory": .array(v.sharedMemory.map { .string($0.description) }),
                        "topology": .array(v.topology.map { .string($0) }),
                    ]
                }),
        ]
    }

    static func text(_ plan: PodPlan, _ verdicts: [NodeVerdict]) -> String {
        var out = "pod \(plan.namespace)/\(plan.name): "
        out +=
            plan.datasets.isEmpty
            ? "no datasets, every node passes with score 0\n"
            : "datasets \(plan.datasets.map { "\($0.ref) (\($0.engine))" }.joined(separator: ", "))\n"
        for p in plan.problems { out += "  ! \(p) (ignored for scheduling)\n" }
        out += "\n"
        for v in verdicts {
            if let f = v.failure {
                out += "\(v.node)  FILTERED  \(f)\n"
                continue
            }
            out += "\(v.node)  score \(v.score)/10"
            let parts = v.bytes.keys.sorted().map { ref -> String in
                let b = v.bytes[ref]!
                let tiers = [("memory", b.memory), ("ssd", b.ssd), ("hdd", b.hdd)].filter { $0.1 > 0 }
                    .map { "\(ByteQuantity.format($0.1)) \($0.0)" }.joined(separator: " + ")
                return "\(ref): \(tiers.isEmpty ? "0" : tiers)"
            }
            if !v.topology.isEmpty {
                out += "  nothing cached on any node; by topology: " + v.topology.joined(separator: "; ")
            } else {
                out += parts.isEmpty ? "  (nothing cached here)" : "  " + parts.joined(separator: "; ")
            }
            if !v.sharedMemory.isEmpty {
                out += "; shared-memory copy of \(v.sharedMemory.map(\.description).joined(separator: ", ")) (+bonus)"
            }
            out += "\n"
        }
        return out
    }
}
