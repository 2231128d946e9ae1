import AsyncHTTPClient
import Foundation
import JSON
import KubeClient
import KubeTestServer
import NIOCore
import NIOHTTP1
import Testing

@testable import WebhookServer

/// The example cluster state, served by an in-process API server.
public func seedExample(_ api: FakeAPIServer) throws {
    let state = try YAMLBridge.parse(ExampleState.yaml, source: "example")
    let plain: [(section: String, resource: Resource)] = [
        ("datasets", .datasets), ("persistentVolumeClaims", .persistentVolumeClaims), ("persistentVolumes", .persistentVolumes),
        ("configMaps", .configMaps), ("namespaces", .namespaces), ("nodes", .nodes), ("daemonSets", .daemonSets),
    ]
    for (section, resource) in plain {
        api.serve(resource.path(), kind: resource.kind)
        for object in state[section]?.arrayValue ?? [] { api.apply(resource.path(), kind: resource.kind, object) }
    }
    for kind in FluidRuntimeKind.allCases { api.serve(Resource.fluidRuntime(kind).path(), kind: kind.rawValue) }
    api.serve(Resource.pods.path(), kind: "Pod")
    for runtime in state["runtimes"]?.arrayValue ?? [] {
        let kind = try #require(runtime["kind"]?.stringValue.flatMap(FluidRuntimeKind.init(rawValue:)))
        api.apply(Resource.fluidRuntime(kind).path(), kind: kind.rawValue, runtime)
    }
}

/// A `/mutate` call to a running Locus, as the API server makes it.
public enum WebhookClient: Sendable {
    public struct Answer: Sendable {
        public var status: HTTPResponseStatus
        public var body: JSONValue?
        public var text: String
    }

    public static func post(_ client: HTTPClient, _ locus: RunningLocus, _ body: [UInt8], contentType: String? = "application/json")
        async throws
        -> Answer
    {
        var req = HTTPClientRequest(url: "\(locus.url)/mutate")
        req.method = .POST
        if let contentType { req.headers.add(name: "Content-Type", value: contentType) }
        req.body = .bytes(ByteBuffer(bytes: body))
        let r = try await client.execute(req, timeout: .seconds(10))
        let bytes = try await r.body.collect(upTo: 4 << 20)
        let text = String(buffer: bytes)
        return Answer(status: r.status, body: try? JSONValue.parse(Data(text.utf8)), text: text)
    }

    public static func patch(of answer: Answer) throws -> JSONValue? {
        guard let b64 = answer.body?["response"]?["patch"]?.stringValue else { return nil }
        return try JSONValue.parse(try #require(Data(base64Encoded: b64)))
    }
}

/// The repository the tests run in, and its Python checks.
public enum Repository: Sendable {
    public static let root = repositoryRoot.path

    public static func python(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess("/usr/bin/env", ["python3", "\(root)/scripts/check-k8s.py"] + args)
    }
}
