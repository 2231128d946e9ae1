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

extension LocusRoutes {
    func refreshGauges() {
        if case .live(let live) = backend {
            let now = Date()
            for (resource, status) in live.status {
                metrics.setInformerState(resource: resource, status: status, now: now)
            }
        }
        for (source, oldest) in locality.snapshot().oldestConfirmation {
            metrics.setLocalityAge(source: source.rawValue, seconds: Date().timeIntervalSince(oldest))
        }
        if let certificates {
            metrics.setCertificateState(reloads: certificates.reloadCount, failures: certificates.failedReloadCount)
        }
        if let connections {
            metrics.setConnectionState(open: connections.openConnections, limitReached: connections.deferredAccepts, slowClosed: connections.slowClientsClosed)
        }
    }
}
