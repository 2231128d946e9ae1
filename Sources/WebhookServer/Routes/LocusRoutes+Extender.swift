import Foundation
import Hummingbird
import HummingbirdCore
import KubeClient
import Locality
import Logging
import Mutators
import NIOCore
import SchedulerExtender
import Synchronization

extension LocusRoutes {
    /// The ExtenderArgs of a request body (without copying the body); nil with the reason, logged
    /// and counted, for a body that is not ExtenderArgs.
    func extenderArgs(_ body: ByteBuffer, verb: String) -> Result<ExtenderArgs, ExtenderRequestError> {
        do {
            return .success(try body.withUnsafeReadableBytes { try ExtenderArgs.parse(borrowing: $0) })
        } catch {
            let error = error as? ExtenderRequestError ?? ExtenderRequestError(description: "\(error)")
            logger.notice("malformed ExtenderArgs", metadata: ["verb": "\(verb)", "error": "\(error)"])
            metrics.recordExtender(verb: verb, outcome: "malformed")
            return .failure(error)
        }
    }

    /// The answer to one `/filter` body: 200 with the result, or 400 with why the body is not
    /// ExtenderArgs (in `Error`). Synchronous and without I/O, so it can run on the connection's
    /// event loop. Passing nodes of a full NodeList are answered with slices of the body.
    func answerFilter(_ body: ByteBuffer) -> (HTTPResponse.Status, [ByteBuffer]) {
        let args: ExtenderArgs
        switch extenderArgs(body, verb: "filter") {
        case .success(let a): args = a
        case .failure(let e): return (.badRequest, [ByteBuffer(bytes: FilterResult(passed: [], error: e.description).encoded(for: nil))])
        }
        let decision = Extender.filter(args, cluster: backend.cache, memo: resolutions)
        let plan = decision.plan
        metrics.recordExtender(verb: "filter", outcome: decision.outcome(nodeCount: args.nodes.count))
        guard let result = decision.result else {
            // No node can fail the pod: the names as sent.
            let answer = FilterResult.allPassing(args.nodes) ?? FilterResult(passed: args.nodeNames).encoded(for: args)
            return (.ok, [ByteBuffer(bytes: answer)])
        }
        metrics.recordFiltered(nodes: result.unresolvable.count)
        if !result.unresolvable.isEmpty {
            logger.info(
                "nodes filtered out",
                metadata: [
                    "pod": "\(plan.namespace)/\(plan.name)", "failed": "\(result.unresolvable.count)", "passed": "\(result.passed.count)",
                ])
        }
        let pieces = body.withUnsafeReadableBytes { raw in result.pieces(for: args, raw: raw) }
        return (
            .ok,
            pieces.map { piece -> ByteBuffer in
                switch piece {
                case .bytes(let b): ByteBuffer(bytes: b)
                case .request(let r): body.getSlice(at: body.readerIndex + r.lowerBound, length: r.count)!
                }
            }
        )
    }

    /// The answer to one `/prioritize` body: 200 with the HostPriorityList, or 400 with why the
    /// body is not ExtenderArgs. Synchronous and without I/O, like `answerFilter`.
    func answerPrioritize(_ body: ByteBuffer) -> (HTTPResponse.Status, ByteBuffer) {
        let args: ExtenderArgs
        switch extenderArgs(body, verb: "prioritize") {
        case .success(let a): args = a
        case .failure(let e): return (.badRequest, ByteBuffer(bytes: Self.errorBytes(e.description)))
        }
        let decision = Extender.prioritize(
            args, cluster: backend.cache, locality: locality.snapshot(), config: extender, memo: resolutions)
        let scores = decision.scores
        metrics.recordPrioritize(basis: decision.basis.rawValue, bestScore: scores.max())
        let score = { (i: Int) in scores[i] }
        guard let size = plainHostPrioritiesSize(names: args.nodes, score: score) else {
            var out: [UInt8] = []
            writeHostPriorities(names: args.nodes, score: score, into: &out)
            return (.ok, ByteBuffer(bytes: out))
        }
        // The usual answer is written straight into the response's buffer (thousands of nodes:
        // no second copy of a few hundred KB).
        var buffer = ByteBufferAllocator().buffer(capacity: size)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            writePlainHostPriorities(names: args.nodes, score: score, size: size, at: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            return size
        }
        return (.ok, buffer)
    }
}
