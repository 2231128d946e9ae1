public import ArgumentParser
import Foundation
import KubeClient
import Locality

/// The `locus` command line. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad input.
public struct LocusCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "locus",
        abstract: "Dataset-aware admission webhook and kube-scheduler extender.",
        subcommands: [Serve.self, Mutate.self, Score.self, Certs.self])

    public init() {}

    /// Parses and runs; never returns.
    public static func run(arguments: [String]) async -> Never {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            fail(2, message(for: error))
        }
        do {
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch let error as ConfigError {
            fail(2, error.description)
        } catch let error as KubeConfigError {
            fail(2, error.description)
        } catch let error as ClusterStateError {
            fail(2, error.description)
        } catch let error as CertificateRequestError {
            fail(2, error.description)
        } catch let error as TLSLoadError {
            fail(2, error.description)
        } catch let error as FileAccessError {
            fail(2, error.description)
        } catch let error as ValidationError {
            fail(2, error.description)
        } catch let error as RuntimeFailure {
            fail(1, error.description)
        } catch {
            // Help and parse errors that ArgumentParser raises from `run()`.
            switch exitCode(for: error) {
            case .success:
                print(fullMessage(for: error))
                Foundation.exit(0)
            case .validationFailure:
                fail(2, message(for: error))
            default:
                fail(1, "\(error)")
            }
        }
    }

    static func fail(_ code: Int32, _ message: String) -> Never {
        let line = message.split(separator: "\n").first.map(String.init) ?? message
        FileHandle.standardError.write(Data("locus: \(line)\n".utf8))
        Foundation.exit(code)
    }
}
