import Foundation
import KubeClient
import Locality
import Synchronization

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
            metrics.setConnectionState(
                open: connections.openConnections, limitReached: connections.deferredAccepts, slowClosed: connections.slowClientsClosed)
        }
    }
}
