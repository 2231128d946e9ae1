import Locality
import TestSupport
import Testing

@Suite("Engine endpoints not answering: said once each way")
struct UnansweredEndpointsTests {
    /// An endpoint is said when it stops answering, not again while it stays so (even when its
    /// reason changes), and said again when it answers; a dataset no longer asked ends its own.
    @Test func eachEndpointIsSaidOnceWhenItStopsAndOnceWhenItAnswers() {
        let a = DatasetRef(namespace: "ml", name: "a")
        let b = DatasetRef(namespace: "ml", name: "b")
        let w1 = "juicefs worker on node-1 (http://10.0.0.1:9567/metrics)"
        let w2 = "juicefs worker on node-2 (http://10.0.0.2:9567/metrics)"
        var u = UnansweredEndpoints()
        var change = u.update([a: ["\(w1): connection refused"], b: []])
        #expect(change.stopped.map(\.problem) == ["\(w1): connection refused"])
        #expect(change.recovered.isEmpty && u.count == 1)
        for _ in 0..<5 {
            change = u.update([a: ["\(w1): timed out"], b: []])
            #expect(change.stopped.isEmpty && change.recovered.isEmpty, "the same endpoint, still not answering")
        }
        change = u.update([a: ["\(w1): timed out", "\(w2): timed out"], b: ["\(w1): refused"]])
        #expect(change.stopped.map { "\($0.dataset) \(UnansweredEndpoints.endpoint(of: $0.problem))" } == ["ml/a \(w2)", "ml/b \(w1)"])
        #expect(u.count == 3)
        change = u.update([a: ["\(w2): timed out"], b: ["\(w1): refused"]])
        #expect(change.recovered.map(\.endpoint) == [w1] && change.recovered.first?.dataset == a)
        change = u.update([a: []])
        #expect(change.recovered.map { "\($0.dataset) \($0.endpoint)" } == ["ml/a \(w2)", "ml/b \(w1)"])
        #expect(u.count == 0)
        #expect(UnansweredEndpoints.endpoint(of: "no colon here") == "no colon here")
    }
}
