import Controllers
import Foundation
import JSON
import KubeClient
import KubeTestServer
import Locality
import Logging
import Mutators
import NIOCore
import SchedulerExtender
import Synchronization
import TestSupport
import Testing

@testable import WebhookServer

@Suite("Warm before scheduling: the warm-up controller against the in-process API server")
struct WarmUpControllerTests {
    @Test func oneDataLoadPerDatasetCreatedOnceReusedAndItsCompletionLiftsEveryWaitingPod() async throws {
        let h = try await WarmUpHarness()
        try await h.create("first", claims: ["llama-weights"])
        #expect(await eventually { (try? await h.dataLoads("llama-weights").count) == 1 })
        try await h.create("second", claims: ["llama-weights"])
        try await Task.sleep(for: .seconds(1))
        let loads = try await h.dataLoads("llama-weights")
        #expect(loads.count == 1, "one warm-up per dataset, however many pods wait: \(loads.map(\.metadata.name))")
        let load = try #require(loads.first)
        #expect(load.metadata.labels?["app.kubernetes.io/managed-by"] == "locus")
        #expect(load.metadata.labels?["locus.dev/warm-dataset"] == "llama-weights")
        #expect(load.spec?.dataset == DataLoad.Target(name: "llama-weights", namespace: "ml") && load.metadata.namespace == "ml")
        #expect(h.metrics.warmUps == ["started"])
        #expect(h.metrics.gated == 2)
        let started = await h.event("first", "WarmUpStarted")
        #expect(started?.message.contains("started DataLoad ml/\(load.metadata.name ?? "")") == true, "\(started?.message ?? "none")")
        #expect(await h.event("second", "WarmUpStarted")?.message.contains("waits for DataLoad") == true)
        #expect(try await h.gates("first") == ["locus.dev/dataset-warm"], "held while the warm-up runs")

        // A DataLoad someone else runs is reused.
        h.someonesDataLoad("imagenet")
        try await h.create("third", claims: ["imagenet"])
        try await Task.sleep(for: .seconds(1))
        #expect(try await h.dataLoads("imagenet").map(\.metadata.name) == ["imagenet-by-hand"])
        #expect(await h.event("third", "WarmUpStarted")?.message.contains("waits for DataLoad ml/imagenet-by-hand") == true)

        h.finish(load, phase: "Complete")
        #expect(await h.lifted("first"))
        #expect(await h.lifted("second"))
        let pod = try await h.pod("first")
        #expect(pod["metadata"]?["labels"]?["locus.dev/warm-gated"] == nil, "the controller's label goes with the gate")
        let outcome = pod["metadata"]?["annotations"]?["locus.dev/warm-outcome"]?.stringValue ?? ""
        #expect(outcome.hasPrefix("loaded after ") && outcome.contains("DataLoad \(load.metadata.name ?? "") completed"), "\(outcome)")
        #expect(pod["spec"]?["schedulingGates"] == nil, "no gate left: the field goes")
        let complete = await h.event("first", "WarmUpComplete")
        #expect(complete?.type == "Normal" && complete?.involvedObject.uid == pod["metadata"]?["uid"]?.stringValue)
        #expect(await eventually { h.metrics.lifts.sorted() == ["loaded", "loaded"] && h.metrics.warmUps == ["started", "completed"] })
        #expect(try await h.gates("third") == ["locus.dev/dataset-warm"], "imagenet's warm-up still runs")
        await h.stop()
    }

    @Test func aFailedWarmUpTheDeadlineAndAWarmNodeEachLiftTheGate() async throws {
        let h = try await WarmUpHarness()
        // Failed: the pod starts with the cache as it is, and says why.
        h.someonesDataLoad("imagenet")
        try await h.create("failing", claims: ["imagenet"])
        try await Task.sleep(for: .milliseconds(500))
        h.finish(try #require(try await h.dataLoads("imagenet").first), phase: "Failed", message: "the loader job failed: OOMKilled")
        #expect(await h.lifted("failing"))
        let failed = await h.event("failing", "WarmUpFailed")
        #expect(
            failed?.type == "Warning" && failed?.message.contains("the loader job failed: OOMKilled") == true,
            "\(failed?.message ?? "none")")

        // Deadline: the warm-up never ends.
        try await h.create("late", claims: ["llama-weights"], annotations: ["locus.dev/warm-deadline": "2s"])
        #expect(await h.lifted("late"))
        let late = await h.event("late", "WarmUpDeadline")
        #expect(late?.type == "Warning" && late?.message.contains("the pod starts cold") == true, "\(late?.message ?? "none")")

        // Warm where the extender would place it: node-b holds all of llama-weights.
        try await h.create("warming", claims: ["llama-weights"])
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await h.gates("warming") == ["locus.dev/dataset-warm"])
        h.cache("llama-weights", bytes: 26 << 30, on: "node-b", source: .juicefs)
        #expect(await h.lifted("warming"))
        let outcome = try await h.pod("warming")["metadata"]?["annotations"]?["locus.dev/warm-outcome"]?.stringValue ?? ""
        #expect(outcome.hasPrefix("warm after") && outcome.contains("on node-b, the node the extender picks"), "\(outcome)")
        #expect(await h.event("warming", "DatasetWarm")?.type == "Normal")
        #expect(await eventually { Set(h.metrics.lifts) == ["failed", "deadline", "warm"] })
        await h.stop()
    }

    @Test func othersGatesStayAndAGoneDatasetOrAHandLiftAreTidiedUp() async throws {
        let h = try await WarmUpHarness()
        try await h.create("quota", claims: ["imagenet"], gates: ["example.com/quota"])
        #expect(try await h.gates("quota") == ["example.com/quota", "locus.dev/dataset-warm"])
        h.cache("imagenet", bytes: 140 << 30, on: "node-a", source: .alluxio)
        #expect(await h.lifted("quota"))
        #expect(try await h.gates("quota") == ["example.com/quota"], "only Locus's gate is removed")

        // The dataset is deleted while the pod waits.
        try await h.create("orphan", claims: ["llama-weights"])
        try await Task.sleep(for: .milliseconds(300))
        h.cache.datasets.delete(try #require(h.cache.datasets.get(namespace: "ml", name: "llama-weights")))
        #expect(await h.lifted("orphan"))
        #expect(await h.event("orphan", "WarmUpAbandoned")?.message.contains("ml/llama-weights is gone") == true)

        // Someone lifts the gate by hand: the label is cleared, the pod told.
        h.index.replace(source: .alluxio, with: [:])
        try await h.create("manual", claims: ["imagenet"])
        _ = try await h.client.patch(
            ObjectHeader.self, .pods, namespace: "ml", name: "manual",
            body: Data(#"[{"op":"remove","path":"/spec/schedulingGates"}]"#.utf8), patchType: .json)
        #expect(
            await eventually {
                guard let pod = try? await h.pod("manual") else { return false }
                return pod["metadata"]?["labels"]?["locus.dev/warm-gated"] == nil
            })
        #expect(await h.event("manual", "WarmUpGateRemoved") != nil)
        await h.stop()
    }

    /// The leader goes away with pods gated and a warm-up running: the replica that takes over
    /// reads what each pod waits for and until when from the pods, and the warm-up from the
    /// DataLoads, so it reuses the running warm-up and keeps each deadline.
    @Test func aNewLeaderPicksUpGatedPodsTheirDeadlinesAndTheRunningWarmUp() async throws {
        let leading = Lines()
        leading.append("first")
        let h = try await WarmUpHarness(leader: false)
        let (_, first) = h.replica { leading.all.last == "first" }
        try await h.create("patient", claims: ["llama-weights"])
        try await h.create("hurried", claims: ["imagenet"], annotations: ["locus.dev/warm-deadline": "3s"])
        #expect(await eventually { (try? await h.dataLoads("llama-weights").count) == 1 })
        first.cancel()
        await first.value
        leading.append("second")
        let (_, second) = h.replica { leading.all.last == "second" }
        #expect(await h.lifted("hurried"), "the deadline written at admission holds across the failover")
        #expect(await h.event("hurried", "WarmUpDeadline") != nil)
        try await Task.sleep(for: .milliseconds(500))
        let loads = try await h.dataLoads("llama-weights")
        #expect(loads.count == 1, "the running warm-up is reused: \(loads.map(\.metadata.name))")
        h.finish(try #require(loads.first), phase: "Complete")
        #expect(await h.lifted("patient"))
        second.cancel()
        await second.value
        await h.stop()
    }

    /// The lift applies only to the gates the controller read: a concurrent change makes the
    /// API server refuse it (422), and nothing of the change is lost.
    @Test func theLiftCarriesItsPrecondition() async throws {
        let h = try await WarmUpHarness(leader: false)
        let created = try await h.create("raced", claims: ["imagenet"], gates: ["example.com/quota"])
        let raw = try JSONDecoder().decode(RawPod.self, from: try created.encoded())
        let lift = GatedPod(raw).liftPatch(outcome: "warm")
        // Another controller lifts its own gate first.
        _ = try await h.client.patch(
            ObjectHeader.self, .pods, namespace: "ml", name: "raced",
            body: Data(#"[{"op":"replace","path":"/spec/schedulingGates","value":[{"name":"locus.dev/dataset-warm"}]}]"#.utf8),
            patchType: .json)
        do {
            _ = try await h.client.patch(
                ObjectHeader.self, .pods, namespace: "ml", name: "raced", body: try lift.encoded(), patchType: .json)
            Issue.record("a lift over changed gates applied")
        } catch let error as KubeAPIError {
            // Refused by the patch's own test, before any validation of what it would write.
            #expect(error.isInvalid && "\(error)".contains("testing value /spec/schedulingGates failed"), "\(error)")
        }
        #expect(try await h.gates("raced") == ["locus.dev/dataset-warm"])
        // Not the leader: nothing is created or lifted.
        try await Task.sleep(for: .seconds(1))
        #expect(try await h.dataLoads("imagenet").isEmpty && h.metrics.gated == 0)
        await h.stop()
    }
}
