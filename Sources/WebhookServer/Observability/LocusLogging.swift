import Foundation
public import Logging
import Synchronization

public enum LocusLogging {
    private static let bootstrapped = Mutex(false)

    /// Installs the process-wide log handler once.
    public static func bootstrap(format: ServeConfig.LogFormat, level: Logger.Level) {
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            switch format {
            case .json:
                var h = JSONLogHandler(label: label)
                h.logLevel = level
                return h
            case .text:
                var h = StreamLogHandler.standardError(label: label)
                h.logLevel = level
                return h
            }
        }
    }
}
