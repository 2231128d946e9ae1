import Foundation
public import KubeClient
public import Logging

/// Leaves core/v1 Events on pods, as `kubectl describe pod` shows them. An Event that cannot be
/// written is logged and dropped: the action it reports has happened.
public struct EventRecorder: Sendable {
    let client: KubeAPIClient
    let instance: String
    let logger: Logger

    public init(client: KubeAPIClient, instance: String, logger: Logger) {
        self.client = client
        self.instance = instance
        self.logger = logger
    }

    public func record(pod namespace: String, _ name: String, uid: String, reason: String, type: String, message: String) async {
        let now = Date()
        // client-go names an event after its object and the time in hex nanoseconds.
        let eventName = "\(name).\(String(UInt64(now.timeIntervalSince1970 * 1e9), radix: 16))"
        let event = KubeEvent(
            metadata: ObjectMeta(name: eventName, namespace: namespace),
            involvedObject: .init(apiVersion: "v1", kind: "Pod", namespace: namespace, name: name, uid: uid),
            reason: reason, message: String(message.prefix(1024)), type: type, component: "locus", instance: instance,
            at: KubeTime.time(now))
        do {
            _ = try await client.create(KubeEvent.self, .events, namespace: namespace, body: try JSONEncoder().encode(event))
        } catch {
            logger.warning(
                "cannot write an event on a pod",
                metadata: ["pod": "\(namespace)/\(name)", "reason": "\(reason)", "error": "\(error)"])
        }
    }
}
