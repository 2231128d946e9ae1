import Foundation

/// Strings longer than a small string (15 bytes of UTF-8) that most pods and AdmissionReviews
/// spell the same way: Kubernetes' own field names and the values its API server and controllers
/// write.
///
/// A `String` of more than 15 bytes is a heap allocation, and reference counted wherever the
/// value is copied. The reader gives a string it reads with exactly these bytes the literal kept
/// here instead (a literal: neither allocated nor counted); a string not among them is built as
/// before. Which strings are here changes no value, only how often one is allocated.
enum KnownStrings {
    static let all: [String] = [
        // Pod and container fields.
        "terminationMessagePath", "terminationMessagePolicy", "terminationGracePeriodSeconds", "persistentVolumeClaim",
        "serviceAccountName", "serviceAccountToken", "expirationSeconds", "enableServiceLinks", "preemptionPolicy",
        "mountPropagation", "tolerationSeconds", "automountServiceAccountToken", "readOnlyRootFilesystem",
        "allowPrivilegeEscalation", "nodeSelectorTerms", "matchExpressions", "topologySpreadConstraints",
        "requiredDuringSchedulingIgnoredDuringExecution", "preferredDuringSchedulingIgnoredDuringExecution", "imagePullSecrets",
        "shareProcessNamespace", "priorityClassName", "runtimeClassName", "supplementalGroups", "fsGroupChangePolicy",
        "resourceFieldRef", "activeDeadlineSeconds", "creationTimestamp", "blockOwnerDeletion",
        "deletionGracePeriodSeconds", "localhostProfile",
        "successThreshold", "failureThreshold", "initialDelaySeconds", "terminationGracePeriod", "restartPolicyRules", "whenUnsatisfiable",
        "podAffinityTerm", "requiredDropCapabilities", "setHostnameAsFQDN", "ephemeralContainers",
        "volumeClaimTemplate",
        // Values the API server and its controllers write into most pods.
        "/dev/termination-log", "FallbackToLogsOnError", "default-scheduler", "PreemptLowerPriority",
        "/var/run/secrets/kubernetes.io/serviceaccount", "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable",
        "ClusterFirstWithHostNet", "kube-root-ca.crt", "metadata.namespace", "admission.k8s.io/v1", "admission.k8s.io/v1beta1",
        "pod-template-hash", "controller-revision-hash", "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index", "batch.kubernetes.io/job-name", "batch.kubernetes.io/controller-uid",
        "batch.kubernetes.io/job-completion-index",
        // Fluid's labels and annotations on the pods Locus serves.
        "fuse.serverful.fluid.io/inject", "serverless.fluid.io/inject", "fluid.io/datasets-in-use",
    ]

    /// By length: the strings of each length from 16 on, with their bytes.
    static let byLength: [[(bytes: [UInt8], string: String)]] = {
        var table = [[(bytes: [UInt8], string: String)]](repeating: [], count: 64)
        for string in all where string.utf8.count > 15 && string.utf8.count < table.count {
            table[string.utf8.count].append((Array(string.utf8), string))
        }
        return table
    }()

    /// The kept string with exactly `bytes`, if there is one.
    @inline(__always)
    static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard bytes.count > 15, bytes.count < byLength.count else { return nil }
        for known in byLength[bytes.count] {
            let same = known.bytes.withUnsafeBufferPointer { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
            if same { return known.string }
        }
        return nil
    }
}
