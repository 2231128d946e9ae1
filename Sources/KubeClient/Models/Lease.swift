public import Foundation

/// A `coordination.k8s.io/v1` Lease: the API server's primitive for leader election.
public struct Lease: KubeObject, Equatable {
    public var apiVersion: String? = "coordination.k8s.io/v1"
    public var kind: String? = "Lease"
    public var metadata: ObjectMeta
    public var spec: Spec?

    public struct Spec: Codable, Sendable, Equatable {
        public var holderIdentity: String?
        public var leaseDurationSeconds: Int?
        /// RFC 3339 with microseconds (`MicroTime`), as the API server writes it.
        public var acquireTime: String?
        public var renewTime: String?
        public var leaseTransitions: Int?

        public init(
            holderIdentity: String?, leaseDurationSeconds: Int?, acquireTime: String?, renewTime: String?, leaseTransitions: Int?
        ) {
            self.holderIdentity = holderIdentity
            self.leaseDurationSeconds = leaseDurationSeconds
            self.acquireTime = acquireTime
            self.renewTime = renewTime
            self.leaseTransitions = leaseTransitions
        }
    }

    public init(metadata: ObjectMeta, spec: Spec?) {
        self.metadata = metadata
        self.spec = spec
    }

    /// `MicroTime`: RFC 3339 in UTC with six fractional digits.
    public static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        let text = f.string(from: Date(timeIntervalSince1970: whole))
        let micros = Int(((seconds - whole) * 1_000_000).rounded(.down))
        return text.dropLast() + "." + String(format: "%06d", micros) + "Z"
    }
}
