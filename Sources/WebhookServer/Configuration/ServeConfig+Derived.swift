public import Controllers
public import Mutators
public import SchedulerExtender

extension ServeConfig {
    /// The admission policy these settings describe; `nativeSidecars` comes from the cluster version.
    public func admissionPolicy(nativeSidecars: Bool) -> AdmissionPolicy {
        var policy = destinations.policy
        policy.mutation.nativeSidecars = nativeSidecars
        return policy
    }

    /// The extender's scoring settings.
    public var extenderConfig: ExtenderConfig { destinations.extender }

    /// The defaults of the admission policy and of the extender's config, with the value of each
    /// key that goes there.
    private var destinations: (policy: AdmissionPolicy, extender: ExtenderConfig) {
        var (policy, extender) = (AdmissionPolicy(), ExtenderConfig())
        for key in Self.keys { key.passOn(self, &policy, &extender) }
        return (policy, extender)
    }

    /// The leader election's timings.
    public var leaseTimings: LeaseTimings {
        LeaseTimings(
            leaseDuration: leaseDurationSeconds, renewDeadline: leaseRenewDeadlineSeconds, retryPeriod: leaseRetryPeriodSeconds)
    }

    /// Checks combinations that each source alone cannot.
    public func validate() throws {
        if (certFile == nil) != (keyFile == nil) {
            throw ConfigError("--cert and --key go together: give both or neither")
        }
        if memoryWeight + ssdWeight + hddWeight == 0 {
            throw ConfigError("memoryWeight, ssdWeight and hddWeight cannot all be 0: nothing would be scored")
        }
        if warmUp, let problem = leaseTimings.problem {
            throw ConfigError(
                "leaseDurationSeconds, leaseRenewDeadlineSeconds, leaseRetryPeriodSeconds: \(problem)")
        }
        if example && clusterState != nil {
            throw ConfigError("--example and --cluster-state are alternatives: give one")
        }
    }
}
