public import Controllers
import Prometheus

extension LocusMetrics: WarmUpMetrics {
    static let waitBuckets: [Double] = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600]

    public func setGatedPods(_ count: Int) {
        registry.makeGauge(
            descriptor: .init(
                namespace: "locus", metricName: "warm_gated_pods", unitName: "",
                helpText: "Pods waiting behind Locus's warm-up scheduling gate now (the leader's count; 0 on other replicas)")
        ).set(Double(count))
    }

    public func recordLift(reason: LiftReason, waitedSeconds: Double) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "locus", metricName: "warm_gate_lifts", unitName: "total",
                helpText: "Warm-up gates lifted, by reason (warm, loaded, failed, deadline, abandoned, by_hand)"),
            labels: [("reason", reason.rawValue)]
        ).increment()
        registry.makeValueHistogram(
            descriptor: .init(
                namespace: "locus", metricName: "warm_wait", unitName: "seconds",
                helpText: "Seconds a pod waited behind the warm-up gate, from its creation to the lift"),
            buckets: Self.waitBuckets
        ).record(waitedSeconds)
    }

    public func recordWarmUp(_ outcome: String) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "locus", metricName: "warm_ups", unitName: "total",
                helpText: "Fluid DataLoads Locus started, and how those ended (started, completed, failed)"),
            labels: [("outcome", outcome)]
        ).increment()
    }
}
