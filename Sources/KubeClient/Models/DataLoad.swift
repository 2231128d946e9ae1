import Foundation

/// A Fluid `DataLoad` (`data.fluid.io/v1alpha1`): a warm-up of a dataset's cache, run by Fluid's
/// controller with the engine's own warm-up (for JuiceFS, `juicefs warmup`). Its phase goes
/// `""` → `Pending` → `Executing` → `Complete` or `Failed`.
public struct DataLoad: KubeObject, Equatable {
    public var apiVersion: String? = "data.fluid.io/v1alpha1"
    public var kind: String? = "DataLoad"
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public struct Spec: Codable, Sendable, Equatable {
        public var dataset: Target?
        public var loadMetadata: Bool?
        public var target: [Path]?
        /// `Once` (Fluid's default), `Cron` or `OnEvent`.
        public var policy: String?

        public init(dataset: Target?, loadMetadata: Bool? = nil, target: [Path]? = nil, policy: String? = nil) {
            self.dataset = dataset
            self.loadMetadata = loadMetadata
            self.target = target
            self.policy = policy
        }
    }
    public struct Target: Codable, Sendable, Equatable {
        public var name: String
        /// Fluid requires the DataLoad's own namespace; empty means that.
        public var namespace: String?

        public init(name: String, namespace: String?) {
            self.name = name
            self.namespace = namespace
        }
    }
    public struct Path: Codable, Sendable, Equatable {
        public var path: String
        public var replicas: Int?
    }
    public struct Status: Codable, Sendable, Equatable {
        public var phase: String?
        public var duration: String?
        public var conditions: [Condition]?

        public init(phase: String?, duration: String? = nil, conditions: [Condition]? = nil) {
            self.phase = phase
            self.duration = duration
            self.conditions = conditions
        }
    }
    public struct Condition: Codable, Sendable, Equatable {
        /// `Complete` or `Failed`.
        public var type: String?
        public var status: String?
        public var reason: String?
        public var message: String?
        public var lastProbeTime: String?
        public var lastTransitionTime: String?

        public init(type: String?, status: String?, reason: String?, message: String?, lastTransitionTime: String?) {
            self.type = type
            self.status = status
            self.reason = reason
            self.message = message
            self.lastTransitionTime = lastTransitionTime
        }
    }

    public init(metadata: ObjectMeta, spec: Spec?, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The dataset it warms: `spec.dataset`, in the DataLoad's namespace when it names none.
    public var datasetKey: (namespace: String, name: String)? {
        guard let target = spec?.dataset else { return nil }
        let ns = target.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? metadata.namespace ?? ""
        return (ns, target.name)
    }

    /// Still to run or running.
    public var isActive: Bool { ["", "Pending", "Executing"].contains(status?.phase ?? "") }
}
