import Foundation
import HTTPTypes
import JSON
import KubeClient
import Locality
import Mutators
import NIOCore
import TestSupport
import Testing

@testable import WebhookServer

@Suite("Whole answers kept for a workload's replicas")
struct ReviewMemoTests {
    /// A replica's review: the pod of a ReplicaSet before the API server names it, with the token
    /// volume the ServiceAccount admission added (`mountName` in the container, when it differs).
    static func replica(
        uid: String, claims: [String] = ["imagenet"], apiVersion: String = "admission.k8s.io/v1", generateName: String = "train-7d9f8c-",
        token: String = "x7k2p", mountToken: String? = nil, managedAt: String? = nil
    ) -> [UInt8] {
        let mounts: [JSONValue] =
            claims.map { ["name": .string($0), "mountPath": .string("/data/\($0)")] } + [
                [
                    "name": .string("kube-api-access-\(mountToken ?? token)"), "readOnly": true,
                    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                ]
            ]
        let volumes: [JSONValue] =
            claims.map { ["name": .string($0), "persistentVolumeClaim": ["claimName": .string($0)]] } + [
                [
                    "name": .string("kube-api-access-\(token)"),
                    "projected": ["defaultMode": 420, "sources": [["serviceAccountToken": ["expirationSeconds": 3607, "path": "token"]]]],
                ]
            ]
        var pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "generateName": .string(generateName), "namespace": "ml", "labels": ["serverless.fluid.io/inject": "true", "app": "train"],
            ],
            "spec": [
                "containers": [["name": "app", "image": "busybox:1.36", "volumeMounts": .array(mounts)]], "volumes": .array(volumes),
            ],
        ]
        if let managedAt {
            // As the API server's field manager writes it for a ReplicaSet's pod, before admission.
            pod["metadata"]?["managedFields"] = [
                [
                    "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": .string(managedAt),
                    "fieldsType": "FieldsV1",
                    "fieldsV1": ["f:metadata": ["f:generateName": [:], "f:labels": [".": [:], "f:app": [:]]]],
                ]
            ]
        }
        return admissionReview(pod: pod, uid: uid, apiVersion: apiVersion)
    }

    static func uid(_ n: Int) -> String { String(format: "705ab4f5-6393-11e8-b7cc-%012d", n) }

    static func routes(_ cache: ClusterCache) -> LocusRoutes {
        LocusRoutes(backend: .fixed(cache), metrics: LocusMetrics(), certificates: nil, maxRequestBytes: 3 << 20)
    }

    static func answer(_ routes: LocusRoutes, _ review: [UInt8]) -> (Int, String) {
        let (status, bytes) = routes.answerMutate(ByteBuffer(bytes: review))
        return (status.code, String(decoding: bytes, as: UTF8.self))
    }

    /// A `.located` selection tells where the string the parsed value holds has its bytes, however
    /// the document is written: of duplicate keys the last, as the value kept; nil for no string.
    @Test func aLocatedStringIsWhereItsBytesAre() throws {
        let selection = JSONSelection.members(["request": .members(["uid": .located, "kind": .all])])
        func located(_ json: String) throws -> String? {
            let bytes = Array(json.utf8)
            let (value, range, _, _) = try bytes.withUnsafeBytes { try JSONValue.parseLocating(bytes: $0, selecting: selection) }
            guard let range else { return nil }
            let raw = String(decoding: bytes[range], as: UTF8.self)
            if !raw.contains("\\") { #expect(value["request"]?["uid"]?.stringValue == raw, "the parsed value is these bytes") }
            return raw
        }
        #expect(try located(#"{"kind":"AdmissionReview","request":{"kind":{"uid":"no"},"uid":"abc-1","object":{"uid":""}}}"#) == "abc-1")
        #expect(try located(#" { "request" : { "uid" : "a\"b" } } "#) == #"a\"b"#, "escapes unread")
        #expect(try located(#"{"re\u0071uest":{"\u0075id":"x"}}"#) == "x", "keys are compared as strings")
        #expect(try located(#"{"request":{"uid":""}}"#) == "")
        #expect(try located(#"{"request":{"uid":7}}"#) == nil, "not a string")
        #expect(try located(#"{"request":{}}"#) == nil)
        #expect(try located(#"{"request":{"uid":"a","uid":"bb"}}"#) == "bb", "a key twice: the last")
        #expect(try located(#"{"request":{"uid":"a","uid":7}}"#) == nil, "a key twice, the last no string")
        #expect(try located(#"{"request":{"uid":"a"},"request":{"uid":"cc"}}"#) == "cc", "a key twice higher up")
        #expect(throws: JSONParseError.self) { try located(#"{"request":{"uid":"a"}"#) }
    }

    /// A `.locatedUnbuilt` member is checked, left out of the value, and found where its bytes are:
    /// of duplicate keys the last. An AdmissionReview's managedFields are found so.
    @Test func anUnbuiltMemberIsWhereItsBytesAre() throws {
        let selection = JSONSelection.members(["metadata": .members(["name": .all, "managedFields": .locatedUnbuilt])])
        func unbuilt(_ json: String) throws -> (JSONValue, String?) {
            let bytes = Array(json.utf8)
            let (value, _, range, _) = try bytes.withUnsafeBytes { try JSONValue.parseLocating(bytes: $0, selecting: selection) }
            return (value, range.map { String(decoding: bytes[$0], as: UTF8.self) })
        }
        let (value, found) = try unbuilt(#"{"metadata":{"name":"a","managedFields": [ {"time":"x"} ] ,"uid":"u"}}"#)
        #expect(value == ["metadata": ["name": "a"]])
        #expect(found == #"[ {"time":"x"} ]"#)
        #expect(try unbuilt(#"{"metadata":{"managedFields":[1],"managedFields":{"b":2}}}"#).1 == #"{"b":2}"#, "a key twice: the last")
        #expect(try unbuilt(#"{"metadata":{"name":"a"},"managedFields":[1]}"#).1 == nil, "only where the selection names it")
        #expect(throws: JSONParseError.self) { try unbuilt(#"{"metadata":{"managedFields":[1,]}}"#) }
        for body in ["small", "10k"] {
            let review = try #require(FileManager.default.contents(atPath: Repository.root + "/bench/review-\(body).json"))
            let request = try AdmissionRequest.parse(review)
            let located = try #require(request.managedFieldsBytes)
            let whole = try JSONValue.parse(review)
            #expect(try JSONValue.parse(Data(review[located])) == whole["request"]?["object"]?["metadata"]?["managedFields"])
            #expect(review[located].first == UInt8(ascii: "[") && review[located].last == UInt8(ascii: "]"), "the value, no more")
        }
    }

    /// A `.spanned` member is read with its own selection and found where its whole value is: of
    /// duplicate keys the last. A review read without its containers' details, read whole again,
    /// is the review read whole: its pod's spec is read again from there.
    @Test func aSpannedMemberIsWhereItsWholeValueIs() throws {
        let selection = JSONSelection.members(["spec": .spanned(.members(["a": .all]))])
        func spanned(_ json: String) throws -> (JSONValue, String?) {
            let bytes = Array(json.utf8)
            let (value, _, _, range) = try bytes.withUnsafeBytes { try JSONValue.parseLocating(bytes: $0, selecting: selection) }
            return (value, range.map { String(decoding: bytes[$0], as: UTF8.self) })
        }
        let (value, found) = try spanned(#"{"spec": {"a":1,"b":[2]} ,"c":3}"#)
        #expect(value == ["spec": ["a": 1]], "built as its own selection says")
        #expect(found == #"{"a":1,"b":[2]}"#)
        #expect(try spanned(#"{"spec":{"a":1},"spec":"s"}"#).1 == #""s""#, "a key twice: the last")
        #expect(try spanned(#"{"other":{"spec":1}}"#).1 == nil, "only where the selection names it")
        for body in ["small", "10k"] {
            let review = try #require(FileManager.default.contents(atPath: Repository.root + "/bench/review-\(body).json"))
            let lean = try AdmissionRequest.parse(review, leavingOutContainerDetails: true)
            let whole = try AdmissionRequest.parse(review)
            #expect(lean.object != whole.object, "details left out")
            let again = try lean.readWhole(from: review)
            #expect(again.object == whole.object && !again.leavesOutContainerDetails)
            #expect(again.uid == whole.uid && again.managedFieldsBytes == whole.managedFieldsBytes)
        }
    }

    /// A replica's review gets the first replica's answer with its own uid; any other change to the
    /// review, a uid the API server would not send, or a changed catalog is decided afresh.
    /// Replicas created in different seconds differ in their managedFields' time, which the
    /// decision never reads: they are answered from the memo. A managedFields value that is not
    /// JSON, in the same place and of the same length, is not: it is decided, and refused.
    @Test func managedFieldsAreOutsideTheMatch() throws {
        let cache = try exampleCache()
        let routes = Self.routes(cache)
        let first = Self.replica(uid: Self.uid(1), managedAt: "2026-12-06T13:45:01Z")
        let second = Self.replica(uid: Self.uid(2), token: "bcd45", managedAt: "2026-12-06T13:45:02Z")
        let (status, answered) = Self.answer(routes, first)
        #expect(status == 200)
        // Decided again at its second sighting, and kept then.
        #expect(Self.answer(routes, Self.replica(uid: Self.uid(4), token: "fgh67", managedAt: "2026-12-06T13:46:07Z")).0 == 200)
        let kept = try #require(second.withUnsafeBytes { routes.answers?.answer(to: $0, revision: cache.revision) })
        #expect(kept.uid == Self.uid(2))
        #expect(kept.bytes == Array(Self.answer(Self.routes(cache), second).1.utf8), "the answer decided afresh, byte for byte")
        #expect(answered.contains(Self.uid(1)))
        // The same bytes but for a managedFields value that is not JSON.
        var broken = second
        let at = try #require(broken.firstRange(of: Array(#""time":"2026"#.utf8)))
        broken[at.lowerBound] = UInt8(ascii: "{")
        #expect(broken.withUnsafeBytes { routes.answers?.answer(to: $0, revision: cache.revision) } == nil)
        #expect(Self.answer(routes, broken).0 == 400)
        // Without managedFields in the kept review, one with them is another review.
        let plain = Self.routes(cache)
        _ = Self.answer(plain, Self.replica(uid: Self.uid(3)))
        _ = Self.answer(plain, Self.replica(uid: Self.uid(5), token: "jkl89"))
        #expect(Self.replica(uid: Self.uid(6)).withUnsafeBytes { plain.answers?.answer(to: $0, revision: cache.revision) } != nil)
        #expect(second.withUnsafeBytes { plain.answers?.answer(to: $0, revision: cache.revision) } == nil)
    }

    /// The webhook keeps an answer when its review is decided the second time: a pod no other
    /// review repeats is noted by a fingerprint only, and any number of them leave a workload's
    /// kept answer where it is.
    @Test func anAnswerIsKeptAtItsReviewsSecondSighting() throws {
        let cache = try exampleCache()
        let routes = Self.routes(cache)
        func known(_ review: [UInt8]) -> Bool {
            review.withUnsafeBytes { routes.answers?.answer(to: $0, revision: cache.revision) } != nil
        }
        #expect(routes.answers?.keepFromSecondSighting == true)
        let first = Self.replica(uid: Self.uid(1), managedAt: "2026-12-06T13:45:01Z")
        #expect(Self.answer(routes, first).0 == 200)
        #expect(!known(Self.replica(uid: Self.uid(2), token: "bcd45", managedAt: "2026-12-06T13:45:02Z")), "seen once: not kept")
        #expect(Self.answer(routes, Self.replica(uid: Self.uid(3), token: "cdf56", managedAt: "2026-12-06T13:45:03Z")).0 == 200)
        #expect(known(Self.replica(uid: Self.uid(4), token: "dfg67", managedAt: "2026-12-06T13:45:04Z")), "kept at the second")
        // Pods that no other review repeats, many more than the memo keeps.
        let many = 4 * routes.answers!.capacity + 8
        for n in 0..<many {
            #expect(Self.answer(routes, Self.replica(uid: Self.uid(100 + n), generateName: String(format: "solo-%06d-", n))).0 == 200)
        }
        #expect(known(Self.replica(uid: Self.uid(5), token: "fgh78", managedAt: "2026-12-06T13:59:59Z")), "the workload's answer stays")
        #expect(!known(Self.replica(uid: Self.uid(6), generateName: "solo-000007-")), "each of those seen once")
        // One of them seen again is kept; one whose fingerprint was pushed out by newer ones is not.
        #expect(Self.answer(routes, Self.replica(uid: Self.uid(7), generateName: String(format: "solo-%06d-", many - 1))).0 == 200)
        #expect(known(Self.replica(uid: Self.uid(8), generateName: String(format: "solo-%06d-", many - 1))))
        #expect(Self.answer(routes, Self.replica(uid: Self.uid(9), generateName: "solo-000000-")).0 == 200)
        #expect(!known(Self.replica(uid: Self.uid(10), generateName: "solo-000000-")))
    }

    /// The fingerprint reads every byte of the fixed ranges (each of its lanes and the tail) and
    /// none of the others, and tells where the ranges are.
    @Test func theFingerprintReadsEveryFixedByteAndOnlyThose() {
        let bytes = (0..<203).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let fixed = [0..<70, 75..<203]
        let base = bytes.withUnsafeBytes { ReviewMemo.fingerprint(of: $0, fixed: fixed) }
        var seen: Set<UInt64> = [base]
        for i in bytes.indices {
            var changed = bytes
            changed[i] ^= 0x40
            let f = changed.withUnsafeBytes { ReviewMemo.fingerprint(of: $0, fixed: fixed) }
            if (70..<75).contains(i) {
                #expect(f == base, "byte \(i) is outside the fixed ranges")
            } else {
                #expect(seen.insert(f).inserted, "byte \(i) changes the fingerprint")
            }
        }
        #expect(bytes.withUnsafeBytes { ReviewMemo.fingerprint(of: $0, fixed: [0..<71, 76..<203]) } != base, "where the ranges are")
    }

    @Test func aReplicaGetsTheAnswerWithItsOwnUID() throws {
        let cache = try exampleCache()
        let memo = ReviewMemo(capacity: 4, maxReviewBytes: 8 << 10)
        func decide(_ review: [UInt8]) throws -> (
            answer: ReviewMemo.Answer, uidInReview: Range<Int>?, managedFields: Range<Int>?, uidInAnswer: Range<Int>, patch: [UInt8]
        ) {
            let request = try AdmissionRequest.parse(review)
            let result = Admission.review(request, catalog: cache, policy: AdmissionPolicy())
            let (bytes, uidInAnswer, patch) = result.response.reviewMarkingUID(apiVersion: request.apiVersion)
            let answer = ReviewMemo.Answer(bytes: bytes, uid: request.uid, result: result, namespace: request.namespace)
            return (answer, request.uidBytes, request.managedFieldsBytes, uidInAnswer, patch)
        }
        func remember(_ review: [UInt8], into memo: ReviewMemo = memo, patch: [UInt8]? = nil) throws {
            let decided = try decide(review)
            review.withUnsafeBytes {
                memo.remember(
                    review: $0, uidInReview: decided.uidInReview, answer: decided.answer, uidInAnswer: decided.uidInAnswer,
                    patch: patch ?? decided.patch, revision: cache.revision, managedFields: decided.managedFields)
            }
        }
        func known(_ review: [UInt8], at revision: UInt64? = nil) -> ReviewMemo.Answer? {
            review.withUnsafeBytes { memo.answer(to: $0, revision: revision ?? cache.revision) }
        }

        let first = Self.replica(uid: Self.uid(1))
        #expect(known(first) == nil, "nothing kept yet")
        try remember(first)
        for (n, token) in [(2, "x7k2p"), (3, "bcd45"), (4, "zz9zz"), (5, "x7k2q")] {
            let review = Self.replica(uid: Self.uid(n), token: token)
            let kept = try #require(known(review), "replica \(n)")
            #expect(kept.bytes == (try decide(review)).answer.bytes, "the answer decided afresh, byte for byte")
            #expect(kept.uid == Self.uid(n))
            #expect(kept.result.outcome == .mutated && kept.result.injections.count == 1)
            #expect(kept.result.pod == nil, "the admitted pod is not kept")
        }
        #expect(known(Self.replica(uid: Self.uid(2)), at: cache.revision &+ 1) == nil, "another catalog")
        #expect(known(Self.replica(uid: "705ab4f5-6393-11e8-b7cc-00000000002")) == nil, "a uid of another length")
        #expect(known(Self.replica(uid: "705ab4f5-6393-11e8-b7cc-0000000000_2")) == nil, "a character the API server does not send")
        #expect(known(Self.replica(uid: Self.uid(2), claims: ["imagenes"])) == nil, "same length, another claim")
        #expect(known(Self.replica(uid: Self.uid(2), token: "bcd45", mountToken: "bcd46")) == nil, "the mount names another volume")
        #expect(known(Self.replica(uid: Self.uid(2), token: "bcD45")) == nil, "a name the API server does not make")
        #expect(known(Self.replica(uid: Self.uid(2), token: "bcd4-")) == nil, "nor this")

        // Not kept: a review whose token names differ, an answer whose patch names the token volume.
        let odd = Self.replica(uid: Self.uid(1), generateName: "train-odd000-", token: "aaaaa", mountToken: "bbbbb")
        try remember(odd)
        #expect(known(odd) == nil)
        let named = Self.replica(uid: Self.uid(1), generateName: "train-named0-", token: "ccccc")
        try remember(named, patch: Array(#"[{"op":"add","path":"/spec/x","value":"kube-api-access-ccccc"}]"#.utf8))
        #expect(known(named) == nil)

        // A uid written with escapes is not kept: it could not be matched by its bytes.
        let escaped = Array(
            String(decoding: Self.replica(uid: "a-b"), as: UTF8.self).replacingOccurrences(of: "a-b", with: #"a\u002db"#).utf8)
        try remember(escaped)
        #expect(known(escaped) == nil)

        // Full: it starts over.
        try remember(Self.replica(uid: Self.uid(1), claims: ["llama-weights"]))
        try remember(Self.replica(uid: Self.uid(1), claims: ["features"]))
        try remember(Self.replica(uid: Self.uid(1), claims: ["imagenet", "features"]))
        #expect(known(Self.replica(uid: Self.uid(9))) != nil)
        try remember(Self.replica(uid: Self.uid(1), claims: ["imagenet", "llama-weights"]))
        #expect(known(Self.replica(uid: Self.uid(9))) == nil, "forgotten when the fifth was kept")
        #expect(known(Self.replica(uid: Self.uid(9), claims: ["imagenet", "llama-weights"])) != nil)

        // Reviews of one length: the oldest makes room.
        let few = ReviewMemo(capacity: 64, maxReviewBytes: 8 << 10, perLength: 2)
        for workload in ["train-aaaaaa-", "train-bbbbbb-", "train-cccccc-"] {
            try remember(Self.replica(uid: Self.uid(1), generateName: workload), into: few)
        }
        func knownTo(_ memo: ReviewMemo, _ generateName: String) -> Bool {
            Self.replica(uid: Self.uid(5), generateName: generateName).withUnsafeBytes { memo.answer(to: $0, revision: cache.revision) }
                != nil
        }
        #expect(!knownTo(few, "train-aaaaaa-"), "made room")
        #expect(knownTo(few, "train-bbbbbb-") && knownTo(few, "train-cccccc-"))

        // Too large to keep.
        let small = ReviewMemo(capacity: 4, maxReviewBytes: first.count - 1)
        try remember(first, into: small)
        #expect(Self.replica(uid: Self.uid(2)).withUnsafeBytes { small.answer(to: $0, revision: cache.revision) } == nil)
    }

    /// Through the webhook's own answer: every answer, kept or not, is the answer of a server that
    /// has seen nothing before, as the catalog changes under the replicas.
    @Test func everyAnswerIsTheAnswerOfAFreshServer() throws {
        let cache = try exampleCache()
        let routes = Self.routes(cache)
        var n = 0
        func check(_ expectation: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
            n += 1
            let review = Self.replica(uid: Self.uid(n), token: String(format: "t%04d", n))
            let (code, answer) = Self.answer(routes, review)
            let (freshCode, fresh) = Self.answer(Self.routes(cache), review)
            #expect(code == 200 && code == freshCode, sourceLocation: sourceLocation)
            #expect(answer == fresh, "\(expectation)", sourceLocation: sourceLocation)
            #expect(answer.contains(Self.uid(n)), sourceLocation: sourceLocation)
            return answer
        }
        #expect(try check("first").contains(#""patch""#))
        #expect(try check("second").contains(#""patch""#))
        #expect(try check("third, from the memo").contains(#""patch""#))

        var dataset = try #require(cache.datasets.get(namespace: "ml", name: "imagenet"))
        let bound = dataset
        dataset.status?.phase = "NotBound"
        dataset.metadata.resourceVersion = "9001"
        cache.datasets.upsert(dataset)
        #expect(try check("the dataset unbound").contains(#""allowed":false"#))
        #expect(try check("still unbound").contains(#""allowed":false"#))

        var rebound = bound
        rebound.metadata.resourceVersion = "9002"
        cache.datasets.upsert(rebound)
        #expect(try check("bound again").contains(#""allowed":true"#))

        cache.namespaces.upsert(
            Namespace(metadata: ObjectMeta(name: "ml", resourceVersion: "9003", labels: ["pod-security.kubernetes.io/enforce": "baseline"]))
        )
        _ = try check("Pod Security now forbids privilege")
        _ = try check("and again")

        // A malformed review is still a 400, whatever was kept.
        var broken = Self.replica(uid: Self.uid(99))
        broken.removeLast()
        #expect(Self.answer(routes, broken).0 == 400)
    }
}
