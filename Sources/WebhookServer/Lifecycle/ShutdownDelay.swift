import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Registered last, so shut down first: on SIGTERM it marks the server draining (not ready) and
/// waits `delay` while the server keeps accepting, so kube-apiserver and kube-scheduler, which
/// still route to this pod until the endpoints update, are not refused; then the server stops
/// accepting and finishes what is in flight.
struct ShutdownDelay: Service {
    let delay: Duration
    let state: ServingState
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()  // returns once a graceful shutdown was triggered
        state.startDraining()
        guard delay > .zero else { return }
        logger.info("shutting down: not ready, still serving for \(delay) while endpoints update")
        try? await Task.sleep(for: delay)
    }
}
