// The regression tests of the fuzzers: saved inputs replayed through the fuzzers' own checks
// (FuzzChecks.swift). Inputs: Tests/Fixtures/fuzz/<target>/* (fuzzer findings, also
// kept in Fuzz/regressions/, and hand-made nasty inputs) and the seed corpus
// Fuzz/corpus/<target>/*. A file named `finding-N-*` is fuzz finding N, fixed in Sources; its own
// test below checks it.

import Foundation
import JSON
import KubeTestServer
import Mutators
import SchedulerExtender
import TestSupport
import Testing
import WebhookServer

@Suite("Fuzz regressions: saved inputs replayed through the fuzzers' checks")
struct FuzzRegressionTests {
    static let fixtures = URL(fileURLWithPath: fixturesDirectory)
    static let repository = repositoryRoot

    /// Every saved input of every target, as "target/source/file" (seed corpus and fixtures).
    static let inputs: [String] = FuzzChecks.targets.flatMap { target in
        let directories = [
            ("fixtures", fixtures.appendingPathComponent("fuzz/\(target)")),
            ("corpus", repository.appendingPathComponent("Fuzz/corpus/\(target)")),
        ]
        return directories.flatMap { source, dir in
            ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
                .filter { !$0.hasPrefix(".") }
                .sorted()
                .map { "\(target)/\(source)/\($0)" }
        }
    }

    static func url(_ input: String) -> URL {
        let parts = input.split(separator: "/", maxSplits: 2).map(String.init)
        return parts[1] == "corpus"
            ? repository.appendingPathComponent("Fuzz/corpus/\(parts[0])/\(parts[2])")
            : fixtures.appendingPathComponent("fuzz/\(parts[0])/\(parts[2])")
    }

    static func replay(_ input: String, tolerating pending: Set<String> = FuzzChecks.pendingFixes) throws {
        let target = String(input.prefix { $0 != "/" })
        let bytes = try Data(contentsOf: url(input))
        try bytes.withUnsafeBytes { try FuzzChecks.check(target: target, $0, tolerating: pending) }
    }

    @Test("there are inputs to replay for every target")
    func inputsExist() {
        for target in FuzzChecks.targets {
            #expect(Self.inputs.contains { $0.hasPrefix("\(target)/fixtures/") }, "no fixtures for \(target)")
            #expect(Self.inputs.contains { $0.hasPrefix("\(target)/corpus/") }, "no seed corpus for \(target)")
        }
    }

    @Test("a saved input passes the fuzzers' checks", arguments: inputs)
    func replaySaved(_ input: String) throws {
        try Self.replay(input)
    }

    // Fuzz finding 1 (fixed): `"object": null` parsed as .some(.null) (AdmissionRequest.parse's
    // `object.flatMap { $0.isNull ? nil : $0 }`: JSONValue is ExpressibleByNilLiteral, so that `nil`
    // was JSONValue.null). A pod CREATE with a null object was reviewed as a pod: in a namespace
    // that opts all pods in the outcome was "unchanged" instead of "skipped".
    @Test("fuzz finding 1: a review whose object is null has no object")
    func finding1NullObject() throws {
        try Self.replay("admission/fixtures/finding-1-null-object.json", tolerating: [])
        let request = try AdmissionRequest.parse(
            Array(
                #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","kind":{"kind":"Pod"},"object":null}}"#
                    .utf8))
        #expect(request.object == nil)
    }

    // Fuzz finding 2 (fixed): ExtenderArgs with the NodeList's key repeated (`"Nodes"` twice, or
    // `"Nodes"` and `"nodes"`) took the nodes of every copy as candidates; Go (and JSONValue.parse)
    // keep the last.
    @Test("fuzz finding 2: a repeated Nodes key keeps the last NodeList only")
    func finding2DuplicateNodeLists() throws {
        try Self.replay("extender/fixtures/finding-2-nodelist-duplicate-keys.json", tolerating: [])
        let body = #"{"Pod":{},"Nodes":{"items":[{"metadata":{"name":"evil"}}]},"Nodes":{"items":[{"metadata":{"name":"node-a"}}]}}"#
        #expect(try ExtenderArgs.parse(Array(body.utf8)).nodeNames == ["node-a"])
    }

    @Test("the built-in example requests pass the fuzzers' checks")
    func exampleRequests() throws {
        for r in ExampleState.requests {
            let target = r.route == "/mutate" ? "admission" : "extender"
            try Array(r.body.utf8).withUnsafeBytes { try FuzzChecks.check(target: target, $0) }
            try Array(r.body.utf8).withUnsafeBytes { try FuzzChecks.check(target: "json", $0) }
        }
    }

    @Test("the example review is mutated, and the checks see its patch")
    func exampleReviewMutates() throws {
        let body = ExampleState.requests.first { $0.route == "/mutate" }!.body
        let request = try AdmissionRequest.parse(Array(body.utf8))
        let result = Admission.review(request, catalog: FuzzChecks.cluster.cache, policy: AdmissionPolicy())
        #expect(result.outcome == .mutated)
        let patch = try FuzzChecks.checkReview(result.response.review(apiVersion: request.apiVersion), request: request, result: result)
        #expect((patch.arrayValue ?? []).count > 0)
    }

    @Test("a pod with names to escape is patched, and the patch passes the checks")
    func weirdNamesArePatched() throws {
        let bytes = try Data(contentsOf: Self.url("admission/fixtures/patch-weird-names.json"))
        let request = try AdmissionRequest.parse(bytes)
        for policy in FuzzChecks.policies {
            let result = Admission.review(request, catalog: FuzzChecks.cluster.cache, policy: policy)
            #expect(result.outcome == .mutated)
            let patch = try FuzzChecks.checkReview(
                result.response.review(apiVersion: request.apiVersion), request: request, result: result)
            #expect(patch.arrayValue?.contains { $0["path"]?.stringValue?.contains("~1") == true } == true)
        }
    }

    @Test("the checks catch a broken answer")
    func checksCatchBreakage() throws {
        let body = ExampleState.requests.first { $0.route == "/mutate" }!.body
        let request = try AdmissionRequest.parse(Array(body.utf8))
        let result = Admission.review(request, catalog: FuzzChecks.cluster.cache, policy: AdmissionPolicy())
        var bytes = result.response.review(apiVersion: request.apiVersion)
        bytes.removeLast()
        #expect(throws: FuzzCheckFailure.self) { try FuzzChecks.checkReview(bytes, request: request, result: result) }
        #expect(throws: (any Error).self) { try PatchApplier.apply([["op": "remove", "path": "/nope"]], to: [:]) }
        #expect(!FuzzChecks.same(["a": 1], ["a": 1.5]))
        #expect(FuzzChecks.same(["a": 2], ["a": 2.0]))
    }
}
