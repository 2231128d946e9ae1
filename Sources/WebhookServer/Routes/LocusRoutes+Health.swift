import Foundation
import Hummingbird
import KubeClient
import Locality
import Synchronization

extension LocusRoutes {
    /// `GET /readyz`: ready once the informers synced and the locality index was built from them;
    /// not ready while draining after SIGTERM. During an API server outage Locus keeps answering
    /// from its caches, so readiness stays and names the stale resources.
    func readiness() -> Response {
        if serving?.isDraining == true { return Self.text(.serviceUnavailable, "not ready: shutting down\n") }
        if serving?.isLocalityPrimed == false, backend.isReady {
            return Self.text(.serviceUnavailable, "not ready: building the locality index\n")
        }
        guard backend.isReady else {
            let waiting = backend.unsynced.map { $0.resource + ($0.failure.map { " (failing: \($0))" } ?? "") }
            return Self.text(.serviceUnavailable, "not ready: waiting for the first list of \(waiting.joined(separator: ", "))\n")
        }
        let stale = backend.staleResources()
        guard !stale.isEmpty else { return Self.text(.ok, "ready\n") }
        let list = stale.map { "\($0.resource) (\($0.seconds) s\($0.failure.map { ": \($0)" } ?? ""))" }.joined(separator: ", ")
        return Self.text(.ok, "ready, serving cached cluster state; no contact with the API server for: \(list)\n")
    }

    /// `GET /metrics`: the Prometheus text, with the gauges read from their sources first.
    func metricsPage() -> Response {
        refreshGauges()
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.render())))
    }

    /// Sets the gauges whose values live elsewhere: informer state, locality age, certificate
    /// reloads, connections.
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
