import Foundation
import Mutators
import ServiceLifecycle
import Synchronization

/// A long-running task as a service that stops on graceful shutdown.
struct TaskService: Service {
    let name: String
    let body: @Sendable () async -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await body()
        }
    }
}
