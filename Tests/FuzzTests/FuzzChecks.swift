// The checks the fuzzers run (Fuzz/, scripts/fuzz), which the regression tests
// (FuzzRegressionTests.swift) replay saved inputs through. Fuzz/Sources/FuzzChecks/FuzzChecks.swift
// is a symlink to this file, built there with LOCUS_FUZZ defined (no Testing); here the same
// checks run under `swift test`.
//
// Inputs replayed: Tests/Fixtures/fuzz/<target>/* (fuzzer findings, also kept in
// Fuzz/regressions/, and hand-made nasty inputs) and the seed corpus Fuzz/corpus/<target>/*.
// A file named `finding-N-*` is fuzz finding N, fixed in Sources; its own test below checks it.
// A finding whose fix is still pending goes in FuzzChecks.pendingFixes (the replay steps around
// it) with its test disabled until the fix lands.

import Foundation
import JSON
import KubeClient
import KubeTestServer
import Locality
import Mutators
import SchedulerExtender
import WebhookServer

#if !LOCUS_FUZZ
    import Testing
#endif

/// A property the fuzzers check does not hold.
public struct FuzzCheckFailure: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The properties checked for one input of each fuzz target. Each throws `FuzzCheckFailure`
/// when a property does not hold; a crash inside Locus crashes the caller (what libFuzzer wants).
public enum FuzzChecks {
    public static let targets = ["admission", "extender", "json"]

    /// The built-in example cluster, loaded as `locus serve --example` loads it, with its
    /// locality index filled from the cluster state's `cache:` entries and Fluid's status.
    struct Cluster: @unchecked Sendable {
        let cache: ClusterCache
        let locality: LocalityIndex.Snapshot
    }

    static let cluster: Cluster = {
        let state = try! ExampleState.clusterState()
        let cache = state.makeClusterCache()
        let index = LocalityIndex(ttl: 120)
        let feeds = LocalityFeeds(cache: cache, index: index, staticEntries: state.cacheEntries)
        feeds.refresh()
        // One snapshot for the whole run, so that a verdict never depends on when it is asked.
        return Cluster(cache: cache, locality: index.snapshot())
    }()

    /// The policies a review is checked under: the default (deny on problems), and admit-with-warnings
    /// with plain sidecars and FUSE sidecar mode by default.
    static let policies: [AdmissionPolicy] = {
        var lenient = AdmissionPolicy()
        lenient.onFailure = .allow
        lenient.mutation.nativeSidecars = false
        lenient.mutation.defaultFuseMode = .sidecar
        lenient.announceInjections = false
        return [AdmissionPolicy(), lenient]
    }()

    /// Known failures whose fix in Sources is pending, by id: while listed here the checks step
    /// around them (the input is skipped), so that fuzzing goes on finding other things and CI
    /// stays green; each has a disabled regression test below. Remove an id once it is fixed.
    public static let pendingFixes: Set<String> = []

    public static func check(target: String, _ bytes: UnsafeRawBufferPointer, tolerating pending: Set<String> = pendingFixes) throws {
        switch target {
        case "admission": try admission(bytes, tolerating: pending)
        case "extender": try extender(bytes, tolerating: pending)
        case "json": try json(bytes)
        default: throw FuzzCheckFailure("no fuzz target \(target)")
        }
    }

    // MARK: - AdmissionReview: decode, decide, encode

    /// Parses an AdmissionReview as `POST /mutate` does; if it parses, reviews it against the example
    /// cluster under each policy and checks the AdmissionReview written back, its patch (applied to
    /// the pod it must give the admitted pod), and that reviewing the admitted pod changes nothing.
    public static func admission(_ body: UnsafeRawBufferPointer, tolerating pending: Set<String> = pendingFixes) throws {
        let request: AdmissionRequest
        do {
            request = try AdmissionRequest.parse(body)
        } catch let error as AdmissionReviewError {
            // What /mutate answers a malformed review with: a 400 whose body is the reason.
            _ = error.description
            return
        } catch {
            throw FuzzCheckFailure("AdmissionRequest.parse threw \(type(of: error)), not AdmissionReviewError: \(error)")
        }
        guard !request.uid.isEmpty else { throw FuzzCheckFailure("parsed a request with an empty uid") }
        guard AdmissionRequest.versions.contains(request.apiVersion) else {
            throw FuzzCheckFailure("parsed apiVersion \(request.apiVersion)")
        }
        if request.object?.isNull == true {
            // Fuzz finding 1: `"object": null` reads as .some(.null), not nil, because
            // `object.flatMap { $0.isNull ? nil : $0 }` in AdmissionRequest.parse types `nil` as
            // JSONValue (it is ExpressibleByNilLiteral), i.e. as .null again.
            if pending.contains("null-object") { return }
            let result = Admission.review(request, catalog: cluster.cache, policy: AdmissionPolicy())
            throw FuzzCheckFailure(
                "fuzz finding 1 (null-object): request \"object\": null parsed as .some(.null), not nil; the review says "
                    + "\(result.outcome.rawValue): "
                    + String(decoding: result.response.review(apiVersion: request.apiVersion), as: UTF8.self))
        }
        if let object = request.object, object.objectValue == nil { throw FuzzCheckFailure("request.object is not an object") }
        for policy in policies {
            let result = Admission.review(request, catalog: cluster.cache, policy: policy)
            let bytes = result.response.review(apiVersion: request.apiVersion)
            // `/mutate` reads the pod without its containers' details: the same answer, byte for byte.
            let served = try Admission.review(body: body, catalog: cluster.cache, policy: policy).result
            guard served.response.review(apiVersion: request.apiVersion) == bytes else {
                throw FuzzCheckFailure(
                    "the review read without container details is answered otherwise:\n  whole:  "
                        + String(decoding: bytes, as: UTF8.self) + "\n  served: "
                        + String(decoding: served.response.review(apiVersion: request.apiVersion), as: UTF8.self))
            }
            let patch = try checkReview(bytes, request: request, result: result)
            try checkOutcome(result, patch: patch, request: request, policy: policy)
            guard let pod = request.object, let admitted = result.pod else { continue }
            // The patch the API server applies must produce exactly the pod Locus admitted.
            let patched: JSONValue
            do {
                patched = try PatchApplier.apply(patch, to: pod)
            } catch {
                throw FuzzCheckFailure("the response's patch does not apply to the pod: \(error)")
            }
            guard same(patched, admitted) else {
                throw FuzzCheckFailure(
                    "the patched pod differs from the admitted pod:\n  patched:  \(patched.jsonString)\n  admitted: \(admitted.jsonString)")
            }
            // Reinvocation-safe: reviewing the admitted pod again changes nothing.
            if result.outcome == .mutated || result.outcome == .unchanged {
                var again = request
                again.object = admitted
                let second = Admission.review(again, catalog: cluster.cache, policy: policy)
                guard second.response.patch.isEmpty else {
                    throw FuzzCheckFailure(
                        "reviewing the admitted pod again patches it (\(second.outcome.rawValue)): "
                            + String(decoding: JSONPatch.encoded(second.response.patch), as: UTF8.self))
                }
                guard second.response.allowed else { throw FuzzCheckFailure("reviewing the admitted pod again denies it") }
            }
        }
    }

    /// Checks one AdmissionReview response; returns its patch, decoded from the wire bytes.
    static func checkReview(_ bytes: [UInt8], request: AdmissionRequest, result: AdmissionResult) throws -> JSONValue {
        let review = try parseBoth(bytes, what: "the AdmissionReview response")
        guard let top = review.objectValue else { throw FuzzCheckFailure("the response is not an object") }
        guard top["apiVersion"]?.stringValue == request.apiVersion else {
            throw FuzzCheckFailure("response apiVersion \(top["apiVersion"]?.jsonString ?? "missing")")
        }
        guard top["kind"]?.stringValue == "AdmissionReview" else {
            throw FuzzCheckFailure("response kind \(top["kind"]?.jsonString ?? "missing")")
        }
        guard let response = top["response"]?.objectValue else { throw FuzzCheckFailure("response.response is not an object") }
        guard response["uid"]?.stringValue == request.uid else {
            throw FuzzCheckFailure(
                "response.uid \(response["uid"]?.jsonString ?? "missing") is not the request's \(JSONValue.string(request.uid).jsonString)")
        }
        guard let allowed = response["allowed"]?.boolValue else { throw FuzzCheckFailure("response.allowed is not a boolean") }
        guard allowed == result.response.allowed else { throw FuzzCheckFailure("response.allowed is not the decision's") }
        if !allowed {
            guard let status = response["status"]?.objectValue, status["code"]?.int64Value != nil,
                let message = status["message"]?.stringValue, !message.isEmpty
            else { throw FuzzCheckFailure("a denial without status.code and status.message") }
        }
        if let warnings = response["warnings"] {
            guard let list = warnings.arrayValue, list.allSatisfy({ $0.stringValue != nil }), list.count <= 10 else {
                throw FuzzCheckFailure("response.warnings is not a list of at most 10 strings")
            }
        }
        guard let encoded = response["patch"] else {
            guard response["patchType"] == nil else { throw FuzzCheckFailure("patchType without a patch") }
            return .array([])
        }
        guard response["patchType"]?.stringValue == "JSONPatch" else { throw FuzzCheckFailure("a patch without patchType JSONPatch") }
        guard allowed else { throw FuzzCheckFailure("a denial carries a patch") }
        guard let base64 = encoded.stringValue, let data = Data(base64Encoded: base64) else {
            throw FuzzCheckFailure("response.patch is not base64")
        }
        let patch = try parseBoth(Array(data), what: "the decoded patch")
        guard let ops = patch.arrayValue, !ops.isEmpty else { throw FuzzCheckFailure("the patch is not a non-empty JSON array") }
        for op in ops {
            guard let o = op.objectValue, let name = o["op"]?.stringValue, ["add", "remove", "replace"].contains(name),
                let path = o["path"]?.stringValue, path.isEmpty || path.hasPrefix("/")
            else { throw FuzzCheckFailure("patch operation \(op.jsonString) is malformed") }
            if name != "remove", o["value"] == nil { throw FuzzCheckFailure("patch operation \(op.jsonString) has no value") }
        }
        return patch
    }

    static func checkOutcome(_ result: AdmissionResult, patch: JSONValue, request: AdmissionRequest, policy: AdmissionPolicy) throws {
        let patched = !(patch.arrayValue ?? []).isEmpty
        switch result.outcome {
        case .skipped:
            guard result.response.allowed, !patched, result.pod == nil else {
                throw FuzzCheckFailure("a skipped request was not allowed unchanged")
            }
        case .denied:
            guard !result.response.allowed, policy.onFailure == .deny, !result.problems.isEmpty else {
                throw FuzzCheckFailure("a denial that is not a deny-policy answer to a problem")
            }
        case .mutated:
            guard result.response.allowed, patched, result.pod != nil else { throw FuzzCheckFailure("'mutated' without a patch") }
        case .unchanged:
            guard result.response.allowed, !patched, result.pod != nil else { throw FuzzCheckFailure("'unchanged' with a patch") }
        case .allowedWithProblems:
            guard result.response.allowed, policy.onFailure == .allow, !result.problems.isEmpty else {
                throw FuzzCheckFailure("'allowed with problems' under a deny policy or without problems")
            }
        }
        if !request.isPodCreate || request.object == nil {
            guard result.outcome == .skipped else { throw FuzzCheckFailure("a request that is not a pod CREATE was not skipped") }
        }
    }

    // MARK: - Extender: decode, filter, prioritize, encode

    /// Parses ExtenderArgs as `POST /filter` and `/prioritize` do; if they parse, runs filter and
    /// prioritize against the example cluster and checks every encoded answer.
    public static func extender(_ bytes: UnsafeRawBufferPointer, tolerating pending: Set<String> = pendingFixes) throws {
        let args: ExtenderArgs
        do {
            args = try ExtenderArgs.parse(borrowing: bytes)
        } catch let error as ExtenderRequestError {
            // /filter answers 400 with the reason in Error.
            let answer = FilterResult(passed: [], error: error.description).encoded(for: nil)
            let json = try parseBoth(answer, what: "the filter error answer")
            guard json["Error"]?.stringValue == error.description, json["NodeNames"]?.isNull == true, json["Nodes"]?.isNull == true else {
                throw FuzzCheckFailure("the filter error answer is \(json.jsonString)")
            }
            return
        } catch {
            throw FuzzCheckFailure("ExtenderArgs.parse threw \(type(of: error)), not ExtenderRequestError: \(error)")
        }
        guard args.pod.objectValue != nil else { throw FuzzCheckFailure("parsed ExtenderArgs whose Pod is not an object") }
        guard args.nodeNames.allSatisfy({ !$0.isEmpty }) else { throw FuzzCheckFailure("parsed an empty node name") }
        guard args.fullNodes == (args.nodeLabels != nil) else {
            throw FuzzCheckFailure("NodeList mode without node labels, or labels without it")
        }
        // The copying parse (kept for FilterResult.encoded(for:)) reads the same.
        let copy = try ExtenderArgs.parse(Array(bytes))
        guard copy.nodeNames == args.nodeNames, copy.pod == args.pod, copy.nodeLabels == args.nodeLabels else {
            throw FuzzCheckFailure("ExtenderArgs.parse and parse(borrowing:) read different arguments")
        }

        let cache = cluster.cache
        let plan = PodPlan.of(pod: args.pod, cache: cache)
        // Filter: the passing nodes are a sub-list of the candidates, every other candidate says why.
        let filter = Extender.filter(plan, nodes: args.nodeNames, labels: NodeView.labels(cache, given: args.nodeLabels))
        guard isSubsequence(filter.passed, of: args.nodeNames) else {
            throw FuzzCheckFailure("filter passed nodes that were not candidates, or reordered them")
        }
        for name in Set(args.nodeNames) where !filter.passed.contains(name) {
            guard filter.unresolvable[name] != nil || filter.failed[name] != nil else {
                throw FuzzCheckFailure("candidate \(name) neither passed nor failed")
            }
        }
        // What /filter writes (borrowed arguments, the body's bytes), and FilterResult.encoded(for:)
        // over arguments that kept their own copy of the body: the same bytes.
        var written: [UInt8] = []
        filter.write(for: args, raw: bytes) { written.append(contentsOf: $0) }
        let encoded = filter.encoded(for: copy)
        guard encoded == written else { throw FuzzCheckFailure("FilterResult.encoded(for:) and write(for:raw:) differ") }
        try checkFilterAnswer(encoded, filter: filter, args: args, body: bytes, tolerating: pending)

        // Prioritize: one score per candidate in 0...10, the same on every path.
        let config = ExtenderConfig()
        let view = NodeView.cluster(cache, given: args.nodeLabels)
        let scores = Extender.scores(plan, nodes: args.nodeNames, locality: cluster.locality, config: config, view: view).scores
        guard scores.count == args.nodeNames.count, scores.allSatisfy({ (0...10).contains($0) }) else {
            throw FuzzCheckFailure("scores \(scores) for \(args.nodeNames.count) nodes")
        }
        for detailed in [true, false] {
            let verdicts = Extender.prioritize(
                plan, nodes: args.nodeNames, locality: cluster.locality, config: config, detailed: detailed, view: view)
            guard verdicts.map(\.node) == args.nodeNames, verdicts.map(\.score) == scores else {
                throw FuzzCheckFailure("prioritize(detailed: \(detailed)) scores \(verdicts.map(\.score)) but scores() \(scores)")
            }
        }
        let pairs = Array(zip(args.nodeNames, scores)).map { (host: $0.0, score: $0.1) }
        let priorities = encodeHostPriorities(pairs)
        var direct: [UInt8] = []
        writeHostPriorities(count: pairs.count, host: { pairs[$0].host }, score: { pairs[$0].score }, into: &direct)
        guard priorities == direct else { throw FuzzCheckFailure("encodeHostPriorities and writeHostPriorities differ") }
        let list = try parseBoth(priorities, what: "the HostPriorityList")
        guard let items = list.arrayValue, items.count == pairs.count else {
            throw FuzzCheckFailure("the HostPriorityList is not a list of \(pairs.count)")
        }
        for (item, pair) in zip(items, pairs) {
            guard item.objectValue?.count == 2, item["Host"]?.stringValue == pair.host, item["Score"]?.int64Value == Int64(pair.score)
            else {
                throw FuzzCheckFailure("HostPriority \(item.jsonString) for \(pair)")
            }
        }
    }

    static func checkFilterAnswer(
        _ bytes: [UInt8], filter: FilterResult, args: ExtenderArgs, body: UnsafeRawBufferPointer, tolerating pending: Set<String>
    ) throws {
        let answer = try parseBoth(bytes, what: "the ExtenderFilterResult")
        guard let top = answer.objectValue else { throw FuzzCheckFailure("the filter answer is not an object") }
        guard top["Error"]?.stringValue == filter.error,
            top["FailedNodes"]?.objectValue?.mapValues(\.stringValue) == filter.failed.mapValues(Optional.some),
            top["FailedAndUnresolvableNodes"]?.objectValue?.mapValues(\.stringValue) == filter.unresolvable.mapValues(Optional.some)
        else { throw FuzzCheckFailure("the filter answer's Error / FailedNodes / FailedAndUnresolvableNodes are not the result's") }
        if !args.fullNodes {
            guard top["Nodes"]?.isNull == true, top["NodeNames"]?.arrayValue?.map(\.stringValue) == filter.passed.map(Optional.some) else {
                throw FuzzCheckFailure("the names-only filter answer does not list the passing nodes")
            }
            return
        }
        guard top["NodeNames"]?.isNull == true, let list = top["Nodes"]?.objectValue, let items = list["items"]?.arrayValue else {
            throw FuzzCheckFailure("the NodeList filter answer has no Nodes.items")
        }
        guard items.count == filter.passed.count else {
            throw FuzzCheckFailure("the NodeList answer has \(items.count) nodes for \(filter.passed.count) passing")
        }
        // Each passing node comes back as the request's own Node object.
        let request = try JSONValue.parse(bytes: body)
        let decoded = field(request, "Nodes").flatMap { field($0, "items") }?.arrayValue ?? []
        if decoded.count != args.nodeNames.count {
            // Fuzz finding 2: with the NodeList's key repeated (`"Nodes"` twice, or `"Nodes"` and
            // `"nodes"`, or `items` likewise) the lazy reader takes the nodes of every copy as
            // candidates, where Go's decoder (and JSONValue.parse) keep the last one only.
            if pending.contains("nodelist-duplicate-keys") { return }
            throw FuzzCheckFailure(
                "fuzz finding 2 (nodelist-duplicate-keys): ExtenderArgs has \(args.nodeNames.count) candidates "
                    + "\(args.nodeNames.prefix(5)), the request's NodeList \(decoded.count)"
            )
        }
        var sent: JSONObject = [:]
        for node in decoded {
            if let name = node["metadata"]?["name"]?.stringValue, sent[name] == nil { sent[name] = node }
        }
        for (item, name) in zip(items, filter.passed) {
            guard let original = sent[name], same(item, original) else {
                throw FuzzCheckFailure(
                    "the NodeList answer's node \(item["metadata"]?["name"]?.jsonString ?? "?") is not the request's node \(name)")
            }
        }
    }

    /// Go's case-insensitive field match, as the extender reads the request.
    static func field(_ value: JSONValue, _ name: String) -> JSONValue? {
        guard let o = value.objectValue else { return nil }
        if let v = o[name] { return v }
        return o.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    static func isSubsequence(_ small: [String], of big: [String]) -> Bool {
        var it = big.makeIterator()
        outer: for s in small {
            while let b = it.next() { if b == s { continue outer } }
            return false
        }
        return true
    }

    // MARK: - The byte-level JSON reader and writer

    /// Parses JSON with KubeClient's reader; what parses must serialise to JSON that any reader
    /// accepts and that parses back to the same value (and serialises to the same bytes). The
    /// lazy reader the extender uses must accept exactly what the strict reader accepts.
    public static func json(_ bytes: UnsafeRawBufferPointer) throws {
        let strict = Result { try JSONValue.parse(bytes: bytes) }
        let lazy = Result { try JSONValue.parse(bytes: bytes, lazyArrayAt: ["Nodes", "items"], keep: ["metadata"]) }
        switch (strict, lazy) {
        case (.failure(let e), _) where !(e is JSONParseError):
            throw FuzzCheckFailure("JSONValue.parse threw \(type(of: e)), not JSONParseError")
        case (_, .failure(let e)) where !(e is JSONParseError):
            throw FuzzCheckFailure("the lazy parse threw \(type(of: e)), not JSONParseError")
        case (.failure, .failure):
            return
        case (.success(let v), .failure(let e)):
            throw FuzzCheckFailure("the strict reader accepts what the lazy reader rejects (\(e)): \(v.jsonString.prefix(200))")
        case (.failure(let e), .success):
            throw FuzzCheckFailure("the lazy reader accepts what the strict reader rejects (\(e))")
        case (.success(let value), .success(let (shallow, elements))):
            let encoded = value.encodedBytes()
            let again: JSONValue
            do {
                again = try parseBoth(encoded, what: "the serialised value")
            }
            guard same(value, again) else {
                throw FuzzCheckFailure("parse(serialise(v)) != v: \(value.jsonString.prefix(200)) vs \(again.jsonString.prefix(200))")
            }
            guard again.encodedBytes() == encoded else { throw FuzzCheckFailure("serialising is not a fixed point") }
            // The lazy array's elements are the strict array's, byte ranges included.
            // Compared only when `Nodes` and `items` are each one key: with case variants the lazy
            // reader keeps the last in the document (as Go does), an order the strict reader's
            // dictionary no longer has.
            func only(_ object: JSONValue, _ name: String) -> JSONValue? {
                let keys = object.objectValue?.keys.filter { $0.lowercased() == name.lowercased() } ?? []
                return keys.count == 1 ? object[keys[0]] : nil
            }
            let strictItems = only(value, "Nodes").flatMap { only($0, "items") }?.arrayValue
            if let strictItems, field(shallow, "Nodes").flatMap({ field($0, "items") })?.arrayValue != nil,
                strictItems.count == elements.count
            {
                for (element, item) in zip(elements, strictItems) {
                    guard element.range.lowerBound >= 0, element.range.upperBound <= bytes.count else {
                        throw FuzzCheckFailure("a lazy element's range \(element.range) is outside the \(bytes.count) bytes")
                    }
                    let slice = try JSONValue.parse(bytes: UnsafeRawBufferPointer(rebasing: bytes[element.range]))
                    guard same(slice, item),
                        element.kept["metadata"].map({ same($0, item["metadata"] ?? .null) }) ?? (item["metadata"] == nil)
                    else {
                        throw FuzzCheckFailure("a lazy element differs from the strict one")
                    }
                }
            }
        }
    }

    // MARK: - Helpers

    /// Parses bytes Locus wrote with its own reader and with Foundation's (an independent
    /// check that they are JSON at all).
    static func parseBoth(_ bytes: [UInt8], what: String) throws -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes: bytes)
        } catch {
            throw FuzzCheckFailure("\(what) is not JSON (\(error)): \(String(decoding: bytes.prefix(400), as: UTF8.self))")
        }
        do {
            _ = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            throw FuzzCheckFailure("\(what) is not JSON to Foundation (\(error)): \(String(decoding: bytes.prefix(400), as: UTF8.self))")
        }
        return value
    }

    /// JSON equality with numbers compared by value (the writer writes an integral 2.0 as 2).
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.integer(let i), .number(let d)), (.number(let d), .integer(let i)): return Double(i) == d
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { k, v in y[k].map { same(v, $0) } ?? false }
        default: return false
        }
    }
}
