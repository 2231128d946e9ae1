import Foundation
import JSON
import KubeClient
import Locality
import Mutators
import SchedulerExtender
import WebhookServer

/// Times a stage: `n` runs after `n / 10` to warm up, the mean printed in microseconds; stages
/// other than `only` (a name prefix) are skipped.
///
/// With `evicting` bytes (`--cold BYTES`), each run is timed alone after writing over that much
/// other memory, so it finds its data out of the caches, as a server's answer does after the
/// kernel and the TLS stack ran in between (a closer guide to the cost under load than the warm
/// loop, which keeps everything an answer touches in the caches).
struct StageTimer {
    let n: Int
    let only: String?
    var evicting = 0

    func callAsFunction(_ name: String, _ f: () throws -> Void) rethrows {
        if let only, !name.hasPrefix(only) { return }
        for _ in 0..<(n / 10) { try f() }
        var total = Duration.zero
        if evicting > 0 {
            var other = [UInt64](repeating: 0, count: evicting / 8)
            for i in 0..<n {
                other.withUnsafeMutableBufferPointer { b in
                    for j in stride(from: 0, to: b.count, by: 8) { b[j] &+= UInt64(i) }  // one write per 64-byte line
                }
                let start = ContinuousClock.now
                try f()
                total += ContinuousClock.now - start
            }
        } else {
            let start = ContinuousClock.now
            for _ in 0..<n { try f() }
            total = ContinuousClock.now - start
        }
        print(String(format: "%-28@ %8.2f µs", name as NSString, Self.microseconds(total) / Double(n)))
    }

    static func microseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
    }
}

/// What every /mutate stage runs on: the review, the example's caches, the webhook's policy.
struct MutateStages {
    let bytes: [UInt8]
    let cache: ClusterCache
    let policy: AdmissionPolicy
    let memo: ResolutionMemo?

    func answer(_ raw: UnsafeRawBufferPointer) throws -> (AdmissionRequest, AdmissionResult) {
        try Admission.review(body: raw, catalog: cache, policy: policy, memo: memo)
    }
}

/// In-process cost of each stage of a /mutate answer (no network): where the time goes.
func stages(_ args: [String]) throws {
    guard let bodyFile = argument("--body", args), let body = FileManager.default.contents(atPath: bodyFile) else {
        fail("--body FILE is required")
    }
    var policy = AdmissionPolicy()
    policy.explain = false  // as the webhook answers: nothing on the wire carries explanations
    let stages = MutateStages(
        bytes: Array(body), cache: try ExampleState.clusterState().makeClusterCache(), policy: policy,
        memo: args.contains("--no-memo") ? nil : ResolutionMemo())
    let time = StageTimer(
        n: argument("--iterations", args).flatMap(Int.init) ?? 20_000, only: argument("--only", args),
        evicting: argument("--cold", args).flatMap(Int.init) ?? 0)
    let (request, result) = try stages.bytes.withUnsafeBytes { try stages.answer($0) }
    try time("parse AdmissionReview") { _ = try AdmissionRequest.parse(stages.bytes, leavingOutContainerDetails: true) }
    try time("JSONDecoder (for scale)") { _ = try JSONDecoder().decode(JSONValue.self, from: body) }
    time("decide + mutate + diff") { _ = Admission.review(request, catalog: stages.cache, policy: policy, memo: stages.memo) }
    time("write response") { _ = result.response.review(apiVersion: request.apiVersion) }
    try time("whole answer") {
        let (r, result) = try stages.bytes.withUnsafeBytes { try stages.answer($0) }
        _ = result.response.review(apiVersion: r.apiVersion)
    }
    timeReplicas(stages, request: request, result: result, answers: ReviewMemo(), time: time)
    try timeAnotherPod(stages, answers: ReviewMemo(keepFromSecondSighting: true), time: time)
    timeThreads(stages, threads: argument("--threads", args).flatMap(Int.init) ?? 2, time: time)
}

/// A workload's replica: the same review again, answered from the memo of whole answers (and what
/// keeping an answer costs, as the webhook does on a review's second sighting).
func timeReplicas(_ stages: MutateStages, request: AdmissionRequest, result: AdmissionResult, answers: ReviewMemo, time: StageTimer) {
    let (answerBytes, uidInAnswer, patch) = result.response.reviewMarkingUID(apiVersion: request.apiVersion)
    let answer = ReviewMemo.Answer(bytes: answerBytes, uid: request.uid, result: result, namespace: request.namespace)
    let revision = stages.cache.revision
    func remember() {
        stages.bytes.withUnsafeBytes {
            answers.remember(
                review: $0, uidInReview: request.uidBytes, answer: answer, uidInAnswer: uidInAnswer, patch: patch, revision: revision,
                managedFields: request.managedFieldsBytes)
        }
    }
    time("remember the answer") { remember() }
    remember()
    time("a replica's answer") {
        guard stages.bytes.withUnsafeBytes({ answers.answer(to: $0, revision: revision) }) != nil else { fail("not remembered") }
    }
}

/// Another pod every time (its generateName changed): looked up in vain, decided, then noted by
/// its fingerprint, as the webhook answers it. Against "whole answer": what the memo costs pods it
/// cannot help.
func timeAnotherPod(_ stages: MutateStages, answers: ReviewMemo, time: StageTimer) throws {
    guard let name = stages.bytes.firstRange(of: Array(#""generateName":""#.utf8))?.upperBound else { return }
    var other = stages.bytes
    var count = 0
    let hex = Array("0123456789abcdef".utf8)
    let revision = stages.cache.revision
    try time("another pod's answer") {
        count += 1
        var n = count
        for i in 0..<6 {
            other[name + i] = hex[n & 15]
            n >>= 4
        }
        try other.withUnsafeBytes { raw in
            if answers.answer(to: raw, revision: revision) != nil { fail("remembered") }
            let (r, result) = try stages.answer(raw)
            let (bytes, uid, patch) = result.response.reviewMarkingUID(apiVersion: r.apiVersion)
            let answer = ReviewMemo.Answer(bytes: bytes, uid: r.uid, result: result, namespace: r.namespace)
            answers.remember(
                review: raw, uidInReview: r.uidBytes, answer: answer, uidInAnswer: uid, patch: patch, revision: revision,
                managedFields: r.managedFieldsBytes)
        }
    }
}

/// The whole answer on several threads at once over the same caches: what sharing costs.
func timeThreads(_ stages: MutateStages, threads: Int, time: StageTimer) {
    guard time.only == nil || time.only == "threads" else { return }
    let n = time.n
    let start = ContinuousClock.now
    DispatchQueue.concurrentPerform(iterations: threads) { _ in
        for _ in 0..<n {
            guard let (r, result) = try? stages.bytes.withUnsafeBytes({ try stages.answer($0) }) else { return }
            _ = result.response.review(apiVersion: r.apiVersion)
        }
    }
    let us = StageTimer.microseconds(ContinuousClock.now - start) / Double(n)
    print(String(format: "%-28@ %8.2f µs", "whole answer, \(threads) threads" as NSString, us))
}

/// In-process cost of each stage of a /prioritize answer over a cluster state.
func extenderStages(_ args: [String]) throws {
    guard let bodyFile = argument("--body", args), let body = FileManager.default.contents(atPath: bodyFile),
        let statePath = argument("--state", args)
    else { fail("--body FILE and --state FILE are required") }
    let n = argument("--iterations", args).flatMap(Int.init) ?? 200
    let state = try ClusterStateFile.read(path: statePath)
    let cache = state.makeClusterCache()
    let entries = state.cacheEntries
    let index = LocalityIndex()
    LocalityFeeds(cache: cache, index: index, staticEntries: entries).refresh()
    let bytes = Array(body)
    func time(_ name: String, _ f: () throws -> Void) rethrows {
        let start = ContinuousClock.now
        for _ in 0..<n { try f() }
        let d = ContinuousClock.now - start
        print(
            String(
                format: "%-28@ %8.1f µs", name as NSString,
                (Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12) / Double(n)))
    }
    let parsed = try ExtenderArgs.parse(bytes)
    let plan = PodPlan.of(pod: parsed.pod, cache: cache)
    let verdicts = Extender.prioritize(plan, nodes: parsed.nodeNames, locality: index.snapshot(), config: ExtenderConfig(), detailed: false)
    try time("parse ExtenderArgs") { _ = try ExtenderArgs.parse(bytes) }
    time("plan") { _ = PodPlan.of(pod: parsed.pod, cache: cache) }
    time("score") {
        _ = Extender.scores(
            plan, nodes: parsed.nodeNames, locality: index.snapshot(), config: ExtenderConfig(), view: NodeView.cluster(cache))
    }
    time("encode") {
        var out: [UInt8] = []
        out.reserveCapacity(32 * verdicts.count + 2)
        writeHostPriorities(count: verdicts.count, host: { verdicts[$0].node }, score: { verdicts[$0].score }, into: &out)
    }
    // One round of a live cluster's locality refresh, off the request path: Fluid's status again
    // from the caches, then each engine source replaced with what its workers said (here the
    // cluster-state figures, relabelled: JuiceFS and Alluxio for FUSE datasets, Vineyard for IPC).
    let feeds = LocalityFeeds(cache: cache, index: index, staticEntries: entries)
    var engines: [LocalitySource: LocalityIndex.Picture] = [:]
    for (node, datasets) in index.picture(of: .clusterState) {
        for (ref, o) in datasets {
            let source: LocalitySource = o.sharedMemory ? .vineyard : (ref.name.hasSuffix("a") ? .alluxio : .juicefs)
            var e = o
            e.source = source
            engines[source, default: [:]][node, default: [:]][ref] = e
        }
    }
    time("refresh: Fluid status") { feeds.refresh() }
    time("  of which the picture") { _ = FluidStatusSource.picture(cache: cache, now: Date()) }
    time("refresh: one engine source") { index.replace(source: .juicefs, with: engines[.juicefs] ?? [:]) }
    let rounds = 20
    let cpu0 = processCPUSeconds()
    let wall0 = ContinuousClock.now
    for _ in 0..<rounds {
        feeds.refresh()
        for (source, picture) in engines { index.replace(source: source, with: picture) }
    }
    let wall = ContinuousClock.now - wall0
    print(
        String(
            format: "%-28@ %8.1f ms CPU, %.1f ms wall (Fluid status + %d engine sources, %d observations)",
            "one refresh round" as NSString, (processCPUSeconds() - cpu0) * 1000 / Double(rounds),
            (Double(wall.components.seconds) * 1e3 + Double(wall.components.attoseconds) / 1e15) / Double(rounds),
            engines.count,
            index.picture(of: .fluidStatus).values.map(\.count).reduce(0, +) + engines.values.flatMap(\.values).map(\.count).reduce(0, +)))
}

