import AsyncHTTPClient
import Foundation
import KubeClient
import NIOCore
import NIOSSL
import Synchronization
import WebhookServer

/// A fresh temporary directory, removed by the caller with `cleanup`.
public struct TempDir: Sendable {
    public let path: String
    public init() throws {
        path = NSTemporaryDirectory() + "locus-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    public func file(_ name: String) -> String { "\(path)/\(name)" }
    public func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: file(name)))
    }
    public func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Polls `condition` until it holds or `timeout` passes.
public func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// An HTTPS client trusting `caPEM`.
public func makeClient(caPEM: String, maxTLS: TLSVersion? = nil, minTLS: TLSVersion? = nil) throws -> HTTPClient {
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
    if let maxTLS { tls.maximumTLSVersion = maxTLS }
    if let minTLS { tls.minimumTLSVersion = minTLS }
    var config = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(5), read: .seconds(10)))
    config.httpVersion = .http1Only
    return kept(HTTPClient(eventLoopGroupProvider: .singleton, configuration: config))
}

/// Every HTTP client a test makes stays referenced until the process ends, so a test that throws
/// before its `shutdown()` fails on its own instead of aborting the whole run (async-http-client
/// traps when a client is deinitialised without `shutdown()` in debug builds).
private let testClients = Mutex<[HTTPClient]>([])
public func kept(_ client: HTTPClient) -> HTTPClient {
    testClients.withLock { $0.append(client) }
    return client
}

/// Where the test fixtures live.
public let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures").path

/// The repository's root (this file is `Tests/TestSupport/TestSupport.swift`).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

public func fixture(_ relative: String) throws -> Data {
    guard let d = FileManager.default.contents(atPath: "\(fixturesDirectory)/\(relative)") else {
        throw TestFailure("missing fixture \(relative)")
    }
    return d
}

public struct TestFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// The built `locus` executable next to the test bundle.
public var locusExecutable: String {
    var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? "")
    // .../.build/debug/LocusPackageTests.xctest (a file on Linux) -> .../.build/debug/locus
    for _ in 0..<4 {
        dir.deleteLastPathComponent()
        let candidate = dir.appendingPathComponent("locus").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    let cwd = FileManager.default.currentDirectoryPath
    for p in [".build/debug/locus", ".build/release/locus"] where FileManager.default.isExecutableFile(atPath: "\(cwd)/\(p)") {
        return "\(cwd)/\(p)"
    }
    return "\(cwd)/.build/debug/locus"
}

/// Runs a process to completion without holding a thread of the concurrency pool while it runs
/// (a long child, like a load generator, would otherwise stall every other test's tasks).
public func runProcessAsync(_ path: String, _ args: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await offThePool { try runProcess(path, args) }
}

/// Runs blocking `work` on a Dispatch thread, not on a thread of the concurrency pool.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do {
                continuation.resume(returning: try work())
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}

/// Runs a process to completion, returning its exit status and output.
@discardableResult
public func runProcess(_ path: String, _ args: [String], environment: [String: String]? = nil, cwd: String? = nil) throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    if let environment { p.environment = environment }
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// Runs a process to completion with its output in files rather than pipes, waiting for it with
/// `waitpid` itself: a command that leaves a daemon behind (`juicefs mount -d`, `podman run -d`)
/// hands the daemon its output, so a pipe would never reach its end, and Foundation's `Process`
/// was seen not to notice such a command's exit.
@discardableResult
public func runLeavingDaemons(_ path: String, _ args: [String], environment: [String: String]? = nil) throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let base = NSTemporaryDirectory() + "locus-run-" + UUID().uuidString
    defer {
        try? FileManager.default.removeItem(atPath: base + ".out")
        try? FileManager.default.removeItem(atPath: base + ".err")
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
    func cStrings(_ list: [String]) -> [UnsafeMutablePointer<CChar>?] { list.map { strdup($0) } + [nil] }
    let argv = cStrings([path] + args)
    let envp = cStrings(env)
    defer { for p in argv + envp { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
    guard rc == 0 else { throw TestFailure("cannot start \(path): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let exited = status & 0x7f == 0
    let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    let out = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
    return (code, out, err)
}
