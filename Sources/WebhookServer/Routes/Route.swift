import Foundation
import Synchronization

/// The routes Locus answers, all on one TLS port.
public enum Route: String, CaseIterable, Sendable {
    case mutate = "/mutate"
    case filter = "/filter"
    case prioritize = "/prioritize"
    case bind = "/bind"
    case healthz = "/healthz"
    case readyz = "/readyz"
    case metrics = "/metrics"

    var label: String { String(rawValue.dropFirst()) }
}
