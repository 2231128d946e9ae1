import Foundation

// libFuzzer's entry when the program keeps its own `main` (SwiftPM's executables do): it parses
// libFuzzer's flags from argc/argv and calls `callback` with each input.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

public enum FuzzDriver {
    nonisolated(unsafe) private static var target = ""
    nonisolated(unsafe) private static var pending = FuzzChecks.pendingFixes

    /// Runs libFuzzer over `FuzzChecks.check(target:)`: a failed check prints why and aborts, which
    /// libFuzzer reports as a crash and saves the input as `crash-…`.
    public static func run(target: String) -> Never {
        self.target = target
        // LOCUS_FUZZ_PENDING="" makes known, unfixed failures fail again (a comma-separated list replaces the default).
        if let list = ProcessInfo.processInfo.environment["LOCUS_FUZZ_PENDING"] {
            pending = Set(list.split(separator: ",").map(String.init))
        }
        _ = FuzzChecks.cluster  // loaded once, before the first input
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(
            LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                let bytes = UnsafeRawBufferPointer(start: data, count: size)
                do {
                    try FuzzChecks.check(target: FuzzDriver.target, bytes, tolerating: FuzzDriver.pending)
                } catch {
                    FileHandle.standardError.write(Data("==FUZZ CHECK FAILED== \(FuzzDriver.target): \(error)\n".utf8))
                    abort()
                }
                return 0
            })
    }
}
