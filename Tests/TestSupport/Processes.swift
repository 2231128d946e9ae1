import Foundation
import Testing

/// A command on PATH (the test machine installs them with scripts/install-test-deps).
public func executable(_ name: String) throws -> String {
    let r = try runProcess("/usr/bin/env", ["sh", "-c", "command -v \(name)"])
    let path = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    guard r.status == 0, !path.isEmpty else { throw TestFailure("\(name) is not installed (scripts/install-test-deps installs it)") }
    return path
}

/// A loopback TCP port nobody listens on right now (the kernel picks it).
public func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    return ok ? Int(UInt16(bigEndian: addr.sin_port)) : Int.random(in: 20_000...40_000)
}

/// Starts `path` in the background with its output in `log`; the caller stops it.
/// `log: nil` discards the output. (Never pass "/dev/null" as a path: creating the log file would
/// replace the device with a regular file when the tests run as root.)
public func startBackground(_ path: String, _ args: [String], environment: [String: String] = [:], log: String?) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    let handle: FileHandle
    if let log {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    } else {
        handle = FileHandle.nullDevice
    }
    p.standardOutput = handle
    p.standardError = handle
    try p.run()
    return p
}

/// The etcd (Debian's, or one on PATH) and the vineyardd (PyPI vineyard-bdist) a Vineyard test runs.
public func vineyardBinaries() throws -> (etcd: String, vineyardd: String) {
    let etcd = FileManager.default.isExecutableFile(atPath: "/usr/bin/etcd") ? "/usr/bin/etcd" : try executable("etcd")
    let vineyardd = try runProcess(
        "/usr/bin/env",
        ["python3", "-c", "import vineyard.bdist, os; print(os.path.join(os.path.dirname(vineyard.bdist.__file__), 'vineyardd'))"]
    )
    .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    try #require(
        FileManager.default.isExecutableFile(atPath: vineyardd),
        "vineyardd from PyPI vineyard-bdist (scripts/install-test-deps installs it)")
    return (etcd, vineyardd)
}

/// A one-member etcd at `path` with its data and log in `dir`, on free ports, accepting clients
/// when this returns (stopped, and the test failed with its log, when it does not start); the
/// caller stops it.
public func startEtcd(_ path: String, in dir: TempDir) async throws -> (process: Process, clientPort: Int) {
    let (client, peer) = (freePort(), freePort())
    let process = try startBackground(
        path,
        [
            "--data-dir", dir.file("etcd"), "--listen-client-urls", "http://127.0.0.1:\(client)",
            "--advertise-client-urls", "http://127.0.0.1:\(client)", "--listen-peer-urls", "http://127.0.0.1:\(peer)",
            "--initial-advertise-peer-urls", "http://127.0.0.1:\(peer)", "--initial-cluster", "default=http://127.0.0.1:\(peer)",
        ], log: dir.file("etcd.log"))
    let started = await eventually(timeout: .seconds(20)) { listening(client) }
    if !started { stop(process) }
    try #require(started, "etcd did not start: \((try? String(contentsOfFile: dir.file("etcd.log"), encoding: .utf8)) ?? "")")
    return (process, client)
}

/// SIGTERM, then SIGKILL after two seconds (vineyardd does not stop on SIGTERM alone).
/// Runs to completion within `timeout` (killed past it); the exit status, or nil on time-out.
public func runBounded(_ path: String, _ args: [String], timeout: TimeInterval, log: String) throws -> Int32? {
    let p = try startBackground(path, args, log: log)
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    if p.isRunning {
        stop(p)
        return nil
    }
    return p.terminationStatus
}

public func stop(_ p: Process) {
    guard p.isRunning else { return }
    p.terminate()
    let deadline = Date().addingTimeInterval(2)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
public func listening(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    return withUnsafePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}
