import Foundation
import Synchronization

/// `locus serve` as a child process; its stderr (JSON log lines) is collected as it arrives.
public final class LocusProcess: Sendable {
    public let process: Process
    public final class TextBox: Sendable {
        public let text = Mutex("")
        public func append(_ d: Data) { text.withLock { $0 += String(decoding: d, as: UTF8.self) } }
        public var value: String { text.withLock { $0 } }
    }
    private let output = TextBox()
    private let stdoutText = TextBox()

    public init(_ args: [String], environment: [String: String] = [:], cwd: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: locusExecutable)
        p.arguments = args
        // No drain pause on SIGTERM unless a test asks for one (it would only slow the tests).
        var env = ["PATH": "/usr/bin:/bin", "HOME": cwd, "LOCUS_SHUTDOWN_DELAY_SECONDS": "0"]
        env.merge(environment) { _, n in n }
        p.environment = env
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        let err = Pipe()
        let out = Pipe()
        p.standardError = err
        p.standardOutput = out
        process = p
        let output = self.output
        err.fileHandleForReading.readabilityHandler = { h in
            let d = h.availableData
            if !d.isEmpty { output.append(d) }
        }
        let so = self.stdoutText
        out.fileHandleForReading.readabilityHandler = { h in
            let d = h.availableData
            if !d.isEmpty { so.append(d) }
        }
        try p.run()
    }

    public var log: String { output.value }
    public var stdout: String { stdoutText.value }

    /// The port from the "serving" log line, once it appears.
    public func waitForPort(timeout: Duration = .seconds(20)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for line in log.split(separator: "\n") where line.contains("\"msg\":\"serving\"") {
                if let r = line.range(of: "\"port\":\""), let end = line[r.upperBound...].firstIndex(of: "\""),
                    let port = Int(line[r.upperBound..<end])
                {
                    return port
                }
            }
            if !process.isRunning { throw TestFailure("locus exited \(process.terminationStatus): \(log)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("locus did not start serving: \(log)")
    }

    public func signal(_ sig: Int32) { _ = Glibc.kill(process.processIdentifier, sig) }

    /// Waits for the exit and returns the status.
    public func wait(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                throw TestFailure("locus did not exit in time: \(log)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    public func kill() { if process.isRunning { process.terminate() } }
}
