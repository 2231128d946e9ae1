import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdCore
import KubeClient
import Locality
import Logging
import Mutators
import NIOCore
import SchedulerExtender
import ServiceLifecycle
import Synchronization
import UnixSignals

extension LocusRoutes {
    /// Reads an extender request body and its ExtenderArgs (without copying the body); a request
    /// that cannot be read is answered 400 with the reason in `Error`.
    func extenderArgs(_ request: inout Request, verb: String) async throws -> (ByteBuffer, Result<ExtenderArgs, ExtenderRequestError>) {
        try Self.requireJSON(request)
        let body = try await readBody(&request, limit: maxExtenderRequestBytes)
        do {
            return (body, .success(try body.withUnsafeReadableBytes { try ExtenderArgs.parse(borrowing: $0) }))
        } catch let error as ExtenderRequestError {
            logger.notice("malformed ExtenderArgs", metadata: ["verb": "\(verb)", "error": "\(error)"])
            metrics.recordExtender(verb: verb, outcome: "malformed")
            return (body, .failure(error))
        }
    }

    /// `POST /filter`: `ExtenderArgs` in, `ExtenderFilterResult` out.
    func filter(_ request: inout Request) async throws -> Response {
        let args: ExtenderArgs
        let (body, parsed) = try await extenderArgs(&request, verb: "filter")
        switch parsed {
        case .success(let a): args = a
        case .failure(let e): return Self.jsonBytes(.badRequest, FilterResult(passed: [], error: e.description).encoded(for: nil))
        }
        let plan = PodPlan.of(pod: args.pod, cache: backend.cache, memo: resolutions)
        let index = NodeView.index(backend.cache, given: args.nodeLabels)
        if let index, Extender.passesEverywhere(plan, index: index), let answer = FilterResult.allPassing(args.nodes) {
            metrics.recordExtender(verb: "filter", outcome: plan.isEmpty ? "no_datasets" : (args.nodes.isEmpty ? "no_node" : "ok"))
            return Self.jsonBytes(.ok, answer)
        }
        let result = Extender.filter(
            plan, nodes: args.nodeNames, labels: NodeView.labels(backend.cache, given: args.nodeLabels),
            index: index)
        metrics.recordExtender(verb: "filter", outcome: plan.isEmpty ? "no_datasets" : (result.passed.isEmpty ? "no_node" : "ok"))
        metrics.recordFiltered(nodes: result.unresolvable.count)
        if !result.unresolvable.isEmpty {
            logger.info(
                "nodes filtered out",
                metadata: [
                    "pod": "\(plan.namespace)/\(plan.name)", "failed": "\(result.unresolvable.count)", "passed": "\(result.passed.count)",
                ])
        }
        // Passing nodes of a full NodeList are answered with slices of the request body (no copy).
        let pieces = body.withUnsafeReadableBytes { raw in result.pieces(for: args, raw: raw) }
        let buffers = pieces.map { piece -> ByteBuffer in
            switch piece {
            case .bytes(let b): ByteBuffer(bytes: b)
            case .request(let r): body.getSlice(at: body.readerIndex + r.lowerBound, length: r.count)!
            }
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(contentsOf: buffers))
    }

    /// `POST /prioritize`: `ExtenderArgs` in, `HostPriorityList` out.
    func prioritize(_ request: inout Request) async throws -> Response {
        let args: ExtenderArgs
        switch try await extenderArgs(&request, verb: "prioritize").1 {
        case .success(let a): args = a
        case .failure(let e): return Self.json(.badRequest, e.description)
        }
        let plan = PodPlan.of(pod: args.pod, cache: backend.cache, memo: resolutions)
        let (scores, basis) = Extender.scores(
            plan, nodes: args.nodes, locality: locality.snapshot(), config: extender,
            view: NodeView.cluster(backend.cache, given: args.nodeLabels))
        metrics.recordPrioritize(basis: basis.rawValue, bestScore: scores.max())
        let score = { (i: Int) in scores[i] }
        guard let size = plainHostPrioritiesSize(names: args.nodes, score: score) else {
            var out: [UInt8] = []
            writeHostPriorities(count: args.nodes.count, host: { args.nodes[$0] }, score: score, into: &out)
            return Self.jsonBytes(.ok, out)
        }
        // The usual answer is written straight into the response's buffer (thousands of nodes:
        // no second copy of a few hundred KB).
        var buffer = ByteBufferAllocator().buffer(capacity: size)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            writePlainHostPriorities(names: args.nodes, score: score, size: size, at: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            return size
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: buffer))
    }
}
