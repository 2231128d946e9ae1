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
        "successThreshold", "failureThreshold", "initialDelaySeconds", "restartPolicyRules", "whenUnsatisfiable",
        "podAffinityTerm", "setHostnameAsFQDN", "ephemeralContainers",
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

    /// One kept string: its first and last eight bytes (most strings of its length differ there),
    /// where its bytes are, and the string.
    struct Known {
        let head: UInt64
        let tail: UInt64
        let bytes: UnsafePointer<UInt8>
        let string: String
    }

    /// The kept strings, by length, in memory that lives as long as the process and is only read
    /// after it is made: a lookup copies no array and touches no reference count (every request
    /// on every thread reads it). `firstOfLength[n]..<firstOfLength[n + 1]` are those of length n.
    nonisolated(unsafe) static let table: (known: UnsafeBufferPointer<Known>, firstOfLength: UnsafeBufferPointer<Int>) = {
        let maxLength = 64
        let strings = all.filter { $0.utf8.count > 15 && $0.utf8.count < maxLength }.sorted { $0.utf8.count < $1.utf8.count }
        let known = UnsafeMutableBufferPointer<Known>.allocate(capacity: strings.count)
        let first = UnsafeMutableBufferPointer<Int>.allocate(capacity: maxLength + 1)
        var next = 0
        for length in 0...maxLength {
            first[length] = next
            while next < strings.count, strings[next].utf8.count == length {
                let bytes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: length)
                _ = bytes.initialize(from: strings[next].utf8)
                let (head, tail) = ends(of: UnsafeRawBufferPointer(bytes))
                (known.baseAddress! + next).initialize(
                    to: Known(head: head, tail: tail, bytes: UnsafePointer(bytes.baseAddress!), string: strings[next]))
                next += 1
            }
        }
        return (UnsafeBufferPointer(known), UnsafeBufferPointer(first))
    }()

    @inline(__always)
    static func ends(of bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        (bytes.loadUnaligned(as: UInt64.self), bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self))
    }

    /// The kept string with exactly `bytes`, if there is one.
    @inline(__always)
    static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let (known, first) = table
        guard bytes.count > 15, bytes.count + 1 < first.count else { return nil }
        let (head, tail) = ends(of: UnsafeRawBufferPointer(bytes))
        for i in first[bytes.count]..<first[bytes.count + 1] where known[i].head == head && known[i].tail == tail {
            if memcmp(known[i].bytes, bytes.baseAddress!, bytes.count) == 0 { return known[i].string }
        }
        return nil
    }
}
