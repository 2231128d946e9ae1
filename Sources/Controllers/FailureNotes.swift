public import KubeClient
public import Logging
import Synchronization

/// Says each failing call to the API server once at warning per kind of failure (what failed and
/// why), at debug while it goes on, and once at notice when the call succeeds again: a call
/// retried every second or two must not fill the log, nor fail unseen.
public final class FailureNotes: Sendable {
    let logger: Logger
    /// The kind (`KubeAPIError.kind`) of each call's last failure, until it succeeds.
    private let failing = Mutex<[String: String]>([:])

    public init(logger: Logger) { self.logger = logger }

    /// `call` failed with `error`; `consequence` says what it means for the cluster.
    public func failed(_ call: String, _ error: any Error, consequence: String, metadata: Logger.Metadata = [:]) {
        let kind = (error as? KubeAPIError)?.kind ?? "\(type(of: error))"
        let new = failing.withLock { $0.updateValue(kind, forKey: call) != kind }
        var metadata = metadata
        metadata["error"] = "\(error)"
        if new {
            logger.warning("\(call); \(consequence)", metadata: metadata)
        } else {
            logger.debug("\(call)", metadata: metadata)
        }
    }

    /// `call` succeeded: said once after failures.
    public func succeeded(_ call: String, metadata: Logger.Metadata = [:]) {
        guard failing.withLock({ $0.removeValue(forKey: call) }) != nil else { return }
        logger.notice("\(call): succeeds again", metadata: metadata)
    }
}
