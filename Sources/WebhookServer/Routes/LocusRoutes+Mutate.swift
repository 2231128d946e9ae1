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
    /// The answer to one `/mutate` body: 200 with the AdmissionReview, or 400 with why the body
    /// is not one. Synchronous and without I/O, so it can run on the connection's event loop.
    /// A review that repeats an earlier one but for what the API server writes anew for each pod
    /// (a workload's replicas: `ReviewMemo`) is answered from `answers` while the cluster cache is
    /// unchanged.
    func answerMutate(_ body: ByteBuffer) -> (HTTPResponse.Status, [UInt8]) {
        let revision = backend.cache.revision
        let answer: ReviewMemo.Answer
        let known = answers.flatMap { answers in body.withUnsafeReadableBytes { answers.answer(to: $0, revision: revision) } }
        if answers != nil { metrics.recordMemo(hit: known != nil) }
        if let known {
            answer = known
        } else {
            let review: AdmissionRequest
            let result: AdmissionResult
            do {
                (review, result) = try body.withUnsafeReadableBytes { body in
                    if policy.warm.enabled {
                        var policy = self.policy
                        if let alive = warmUpAlive { policy.warm.controllerAlive = alive() }
                        return try Admission.review(
                            body: UnsafeRawBufferPointer(body), catalog: backend.cache, policy: policy, memo: resolutions,
                            locality: locality.snapshot(), now: Date())
                    }
                    // The policy as it is, not a copy: a copy retains each of its arrays and strings,
                    // counts every request on both event loops writes (the cache line goes back and forth).
                    return try Admission.review(
                        body: UnsafeRawBufferPointer(body), catalog: backend.cache, policy: policy, memo: resolutions, locality: nil,
                        now: Date())
                }
            } catch {
                logger.notice("malformed AdmissionReview", metadata: ["error": "\(error)"])
                return (.badRequest, Self.errorBytes("\(error)"))
            }
            let (bytes, uidInAnswer, patch) = result.response.reviewMarkingUID(apiVersion: review.apiVersion)
            answer = ReviewMemo.Answer(bytes: bytes, uid: review.uid, result: result, namespace: review.namespace)
            // A warm-up gate was weighed on the locality view, which moves without the cache's
            // revision: that answer is this review's alone.
            if !result.readsLiveState {
                body.withUnsafeReadableBytes {
                    answers?.remember(
                        review: $0, uidInReview: review.uidBytes, answer: answer, uidInAnswer: uidInAnswer, patch: patch,
                        revision: revision, managedFields: review.managedFieldsBytes)
                }
            }
        }
        record(answer)
        return (.ok, answer.bytes)
    }

    /// Metrics and logs of one decision.
    private func record(_ answer: ReviewMemo.Answer) {
        let result = answer.result
        metrics.recordAdmission(outcome: result.outcome.rawValue, engines: result.engines, injections: result.injections)
        switch result.outcome {
        case .denied, .allowedWithProblems:
            logger.info(
                "admission \(result.outcome.rawValue)",
                metadata: [
                    "uid": "\(answer.uid)", "namespace": "\(answer.namespace ?? "")",
                    "problems": "\(result.problems.joined(separator: "; "))",
                ])
        case .mutated:
            logger.debug(
                "admission mutated",
                metadata: [
                    "uid": "\(answer.uid)", "namespace": "\(answer.namespace ?? "")", "engines": "\(result.engines.joined(separator: ","))",
                ])
        case .unchanged, .skipped:
            break
        }
    }
}
