import Foundation
import AsyncHTTPClient
import Hummingbird
import HummingbirdCore
import KubeClient
import Logging
import Locality
import Mutators
import NIOCore
import SchedulerExtender
import ServiceLifecycle
import Synchronization
import UnixSignals

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
