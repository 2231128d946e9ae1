public import Foundation
public import KubeClient
public import Locality
public import Mutators
public import Prometheus
import Synchronization

/// The Prometheus series Locus exports. Each instance has its own registry, so servers in
/// one process (tests) do not share counters.
public final class LocusMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    /// Series of the request path, made once per label set and then looked up by their label
    /// values (no string is built per request).
    private let requestSeries = Mutex<[RequestKey: RequestSeries]>([:])
    private let counterSeries = Mutex<[SeriesKey: Counter]>([:])

    /// A request series' labels.
    struct RequestKey: Hashable {
        let route: String
        let code: Int
    }

    /// A counter's name and the values of its labels (at most two).
    struct SeriesKey: Hashable {
        let name: String
        let first: String
        let second: String
    }

    /// The series one route's answers with one status code are counted and timed in.
    public struct RequestSeries: Sendable {
        let counter: Counter
        let histogram: DurationHistogram

        public func record(duration: Duration) {
            counter.increment()
            histogram.recordNanoseconds(
                Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        }
    }

    /// Made once: it is recorded on every `/prioritize`.
    private let bestScores: ValueHistogram
    /// Made once: one of them is counted on every `/mutate` the memo of answers is asked about.
    private let answersReplayed: Counter
    private let answersDecided: Counter

    public init() {
        bestScores = registry.makeValueHistogram(
            descriptor: .init(
                namespace: "locus", metricName: "extender_best_score",
                unitName: "",
                helpText: "Best node score (0-10) of each /prioritize answer; all-0 answers leave placement to the other plugins"),
            buckets: Self.scoreBuckets)
        let registry = self.registry
        let memo = { (result: String) in
            registry.makeCounter(
                descriptor: .init(
                    namespace: "locus", metricName: "admission_memo", unitName: "total",
                    helpText: "AdmissionReviews the memo of answers was asked about: hit (a replica's review, answered from it), miss (decided)"),
                labels: [("result", result)])
        }
        answersReplayed = memo("hit")
        answersDecided = memo("miss")
    }

    /// Whether the memo of answers answered a review (`true`) or it was decided.
    public func recordMemo(hit: Bool) {
        (hit ? answersReplayed : answersDecided).increment()
    }

    public func recordRequest(route: String, code: Int, duration: Duration) {
        requestSeries(route: route, code: code).record(duration: duration)
    }

    /// The series of `route`'s answers with status `code` (made at its first use).
    public func requestSeries(route: String, code: Int) -> RequestSeries {
        let key = RequestKey(route: route, code: code)
        return requestSeries.withLock { cache in
            if let s = cache[key] { return s }
            let s = RequestSeries(
                counter: registry.makeCounter(
                    descriptor: .init(
                        namespace: "locus", metricName: "http_requests", unitName: "total",
                        helpText: "HTTP requests answered, by route and status code"),
                    labels: [("route", route), ("code", String(code))]),
                histogram: registry.makeDurationHistogram(
                    descriptor: .init(
                        namespace: "locus", metricName: "http_request_duration", unitName: "seconds",
                        helpText: "Time to answer a request, by route"),
                    labels: [("route", route)], buckets: Self.latencyBuckets)
            )
            cache[key] = s
            return s
        }
    }

    /// One admission decision; counted once per engine involved (`none` when no dataset), and
    /// what it wired, per engine and how (`fuse-native-sidecar`, `fuse-sidecar`, `fuse-serverful`, `shared-memory`, `named`).
    public func recordAdmission(outcome: String, engines: [String], injections: [Injection] = []) {
        for i in injections {
            cachedCounter(
                name: "injections", ("engine", i.engine), ("how", i.how.rawValue),
                help:
                    "Datasets wired into admitted pods, by engine and how (fuse-native-sidecar, fuse-sidecar, fuse-serverful, "
                    + "shared-memory, named)"
            ).increment()
        }
        for engine in engines.isEmpty ? ["none"] : engines {
            cachedCounter(
                name: "admission_reviews", ("outcome", outcome), ("engine", engine),
                help: "Admission decisions by outcome (mutated, unchanged, skipped, denied, allowed_with_problems) and engine"
            ).increment()
        }
    }

    /// A `locus_<name>_total` counter of the request path, made once per label set (the help
    /// text is built only then).
    private func cachedCounter(
        name: String, _ first: (String, String)? = nil, _ second: (String, String)? = nil, help: @autoclosure () -> String
    ) -> Counter {
        let key = SeriesKey(name: name, first: first?.1 ?? "", second: second?.1 ?? "")
        return counterSeries.withLock { cache in
            if let c = cache[key] { return c }
            let labels = [first, second].compactMap { $0 }
            let c = registry.makeCounter(
                descriptor: .init(namespace: "locus", metricName: name, unitName: "total", helpText: help()), labels: labels)
            cache[key] = c
            return c
        }
    }

    public func recordExtender(verb: String, outcome: String) {
        cachedCounter(
            name: "extender_requests", ("verb", verb), ("outcome", outcome),
            help:
                "Scheduler extender requests by verb and outcome (filter: ok, no_node, no_datasets; prioritize: cached_bytes, topology, "
                + "nothing, no_datasets; both: malformed)"
        ).increment()
    }

    static let scoreBuckets: [Double] = (0...10).map(Double.init)

    /// One `/prioritize` answer: what its scores rest on, and the best score it gave.
    public func recordPrioritize(basis: String, bestScore: Int?) {
        recordExtender(verb: "prioritize", outcome: basis)
        guard let bestScore else { return }
        bestScores.record(Double(bestScore))
    }

    /// Nodes one `/filter` answer removed (pods left without a node show in `outcome="no_node"`).
    public func recordFiltered(nodes: Int) {
        cachedCounter(name: "extender_filtered_nodes", help: "Nodes removed by /filter because they cannot serve the pod")
            .increment(by: Int64(nodes))
    }

    public func setLocalityAge(source: String, seconds: Double) {
        registry.makeGauge(
            descriptor: .init(
                namespace: "locus", metricName: "locality_oldest_figure_age", unitName: "seconds",
                helpText: "Age of the oldest locality figure per source"),
            labels: [("source", source)]
        ).set(seconds)
    }

    /// Engine endpoints not answering now, over every dataset (each said once in the log).
    public func setUnansweredEndpoints(_ count: Int) {
        registry.makeGauge(
            descriptor: .init(
                namespace: "locus", metricName: "engine_endpoints_not_answering", unitName: "count",
                helpText: "Engine endpoints (workers, vineyardd) that failed, timed out or answered garbage at the last poll")
        ).set(Double(count))
    }

    /// What one engine poll said about one dataset: endpoints that failed, and shared memory per node.
    public func recordEngineReport(source: String, dataset: String, report: EngineReport) {
        registry.makeGauge(
            descriptor: .init(
                namespace: "locus", metricName: "engine_unanswered_endpoints", unitName: "count",
                helpText: "Engine endpoints that failed, timed out or answered garbage at the last poll, per dataset"),
            labels: [("engine", source), ("dataset", dataset)]
        ).set(Double(report.problems.count))
        for (node, memory) in report.memory {
            for (name, value, help) in [
                ("used", memory.used, "Shared memory in use per node, as the engine reports it"),
                ("limit", memory.limit, "Shared memory limit per node, as the engine reports it"),
            ] {
                registry.makeGauge(
                    descriptor: .init(namespace: "locus", metricName: "engine_shared_memory_\(name)", unitName: "bytes", helpText: help),
                    labels: [("engine", source), ("dataset", dataset), ("node", node)]
                ).set(Double(value))
            }
        }
    }

    /// Gauges read at scrape time.
    public func setInformerState(resource: String, status: InformerStatus, now: Date) {
        let (synced, stats, contact) = (status.synced, status.stats, status.contact)
        let labels = [("resource", resource)]
        if let seconds = contact.secondsSinceHeard(at: now) {
            registry.makeGauge(
                descriptor: .init(
                    namespace: "locus", metricName: "informer_seconds_since_contact", unitName: "seconds",
                    helpText: "Seconds since the API server last answered the informer (a list, a watch, an event or a bookmark)"),
                labels: labels
            ).set(seconds.rounded())
        }
        registry.makeGauge(
            descriptor: .init(
                namespace: "locus", metricName: "informer_contact", unitName: "bool",
                helpText: "1 while the informer is in contact with the API server; 0 from a failed list or watch until one succeeds"),
            labels: labels
        ).set(Double(contact.state == .inContact ? 1 : 0))
        registry.makeGauge(
            descriptor: .init(
                namespace: "locus", metricName: "informer_synced", unitName: "bool",
                helpText: "1 once the informer's first list is cached"), labels: labels
        ).set(Double(synced ? 1 : 0))
        registry.makeGauge(
            descriptor: .init(
                namespace: "locus", metricName: "informer_relists", unitName: "count",
                helpText: "Relists after 410 Gone or an ERROR event"), labels: labels
        ).set(Double(stats.relistsAfterGone + stats.relistsAfterError))
        registry.makeGauge(
            descriptor: .init(
                namespace: "locus", metricName: "informer_reconnects", unitName: "count",
                helpText: "Watch streams resumed after a failure"), labels: labels
        ).set(Double(stats.reconnects))
        for (kind, count) in stats.failures {
            registry.makeGauge(
                descriptor: .init(
                    namespace: "locus", metricName: "informer_failures", unitName: "count",
                    helpText: "Lists and watches that failed, by kind: HTTP <status>, unreachable, undecodable, too large, credentials"),
                labels: labels + [("kind", kind)]
            ).set(Double(count))
        }
    }

    public func setCertificateState(reloads: Int, failures: Int) {
        registry.makeGauge(
            descriptor: .init(
                namespace: "locus", metricName: "tls_certificate_reloads", unitName: "count",
                helpText: "Serving certificates installed after rotation")
        ).set(Double(reloads))
        registry.makeGauge(
            descriptor: .init(
                namespace: "locus", metricName: "tls_certificate_reload_failures", unitName: "count",
                helpText: "Rotated certificate files that could not be used (old pair kept)")
        ).set(Double(failures))
    }

    public func setConnectionState(open: Int, limitReached: Int, slowClosed: Int) {
        for (name, value, help) in [
            ("http_open_connections", open, "TLS connections open now"),
            (
                "http_connection_limit_reached_count", limitReached,
                "Times maxConnections was reached (new connections then wait until one closes)"
            ),
            ("http_slow_requests_closed_count", slowClosed, "Connections closed because a request's head or body did not arrive in time"),
        ] {
            registry.makeGauge(descriptor: .init(namespace: "locus", metricName: name, unitName: "", helpText: help)).set(Double(value))
        }
    }

    public func render() -> [UInt8] { registry.emitToBuffer() }
}
