import Foundation
import JSON
import Locality

/// A malformed AdmissionReview: answered with HTTP 400 and this reason.
public struct AdmissionReviewError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// The part of an `AdmissionReview.request` Locus uses.
public struct AdmissionRequest: Sendable {
    public static let versions = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"]

    /// `admission.k8s.io/v1` or `v1beta1`: the response is written in the same version.
    public var apiVersion: String
    public var uid: String
    public var group: String
    public var kind: String
    public var subResource: String?
    public var operation: String
    public var namespace: String?
    public var name: String?
    public var object: JSONValue?
    public var dryRun: Bool

    /// The parts of an AdmissionReview a decision reads; the rest (userInfo, options, oldObject,
    /// the resource names) is checked to be JSON but not built.
    static let selection = JSONSelection.members([
        "apiVersion": .all, "kind": .all,
        "request": .members([
            "uid": .all, "kind": .all, "subResource": .all, "operation": .all, "namespace": .all, "name": .all,
            "object": .all, "dryRun": .all,
        ]),
    ])

    /// Reads an AdmissionReview; every way it can be malformed is an error that says which.
    public static func parse<Bytes: ContiguousBytes>(_ body: Bytes) throws -> AdmissionRequest {
        let json: JSONValue
        do {
            json = try body.withUnsafeBytes { try JSONValue.parse(bytes: $0, selecting: selection) }
        } catch {
            throw AdmissionReviewError(description: "body is not an AdmissionReview: \(error)")
        }
        guard case .object = json else { throw AdmissionReviewError(description: "body is not a JSON object") }
        guard json["kind"]?.stringValue == "AdmissionReview" else {
            throw AdmissionReviewError(description: "kind must be AdmissionReview, got \(json["kind"]?.jsonString ?? "nothing")")
        }
        guard let version = json["apiVersion"]?.stringValue, versions.contains(version) else {
            throw AdmissionReviewError(
                description: "apiVersion must be one of \(versions.joined(separator: ", ")), got \(json["apiVersion"]?.jsonString ?? "nothing")")
        }
        guard let request = json["request"], case .object = request else {
            throw AdmissionReviewError(description: "AdmissionReview has no request")
        }
        guard let uid = request["uid"]?.stringValue, !uid.isEmpty else {
            throw AdmissionReviewError(description: "request.uid is missing")
        }
        guard let operation = request["operation"]?.stringValue else {
            throw AdmissionReviewError(description: "request.operation is missing")
        }
        guard let kind = request["kind"], let kindName = kind["kind"]?.stringValue else {
            throw AdmissionReviewError(description: "request.kind is missing")
        }
        let object = request["object"]
        if let object, !object.isNull, object.objectValue == nil {
            throw AdmissionReviewError(description: "request.object is not an object")
        }
        return AdmissionRequest(
            apiVersion: version, uid: uid, group: kind["group"]?.stringValue ?? "", kind: kindName,
            subResource: request["subResource"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
            operation: operation, namespace: request["namespace"]?.stringValue, name: request["name"]?.stringValue,
            object: object?.isNull == false ? object : nil, dryRun: request["dryRun"]?.boolValue ?? false)
    }

    public var isPodCreate: Bool { group.isEmpty && kind == "Pod" && subResource == nil && operation == "CREATE" }
}

/// The `response` of an AdmissionReview.
public struct AdmissionResponse: Sendable, Equatable {
    public var uid: String
    public var allowed: Bool
    public var patch: [PatchOperation]
    /// For a denial: HTTP-like code and message shown to the user.
    public var code: Int?
    public var message: String?
    public var warnings: [String]

    public static func allow(uid: String, warnings: [String] = []) -> AdmissionResponse {
        AdmissionResponse(uid: uid, allowed: true, patch: [], code: nil, message: nil, warnings: warnings)
    }

    /// The whole AdmissionReview in `apiVersion`, as bytes (written directly: this is the hot path).
    public func review(apiVersion: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + patch.count * 160)
        out.append(contentsOf: #"{"apiVersion":"#.utf8)
        JSONValue.string(apiVersion).write(into: &out)
        out.append(contentsOf: #","kind":"AdmissionReview","response":{"uid":"#.utf8)
        JSONValue.string(uid).write(into: &out)
        out.append(contentsOf: (allowed ? #","allowed":true"# : #","allowed":false"#).utf8)
        if !patch.isEmpty {
            out.append(contentsOf: #","patchType":"JSONPatch","patch":""#.utf8)
            Base64.append(JSONPatch.encoded(patch), to: &out)
            out.append(UInt8(ascii: "\""))
        }
        if let message {
            out.append(contentsOf: #","status":"#.utf8)
            let status: JSONValue = ["code": .integer(Int64(code ?? 403)), "message": .string(message), "status": "Failure", "reason": "Forbidden"]
            status.write(into: &out)
        }
        if !warnings.isEmpty {
            // The API server shows warnings to the user; it truncates long ones, so keep each short and few.
            out.append(contentsOf: #","warnings":"#.utf8)
            JSONValue.array(warnings.prefix(10).map { .string(String($0.prefix(240))) }).write(into: &out)
        }
        out.append(contentsOf: "}}".utf8)
        return out
    }
}

/// What the operator chose for requests Locus cannot serve.
public struct AdmissionPolicy: Sendable, Equatable {
    public enum OnFailure: String, Sendable, CaseIterable {
        /// Deny the pod with the reason (pair with `failurePolicy: Fail`).
        case deny
        /// Admit the pod without the datasets that failed, with a warning (pair with `failurePolicy: Ignore`).
        case allow
    }
    public var onFailure = OnFailure.deny
    /// Tell the pod's owner, in one AdmissionReview warning, which datasets were wired and how
    /// (kubectl prints it; the same is recorded in `locus.dev/injected`).
    public var announceInjections = true
    public var mutation = MutationConfig()
    /// Write `AdmissionResult.explanations` (for `locus mutate`); the webhook answers without them.
    public var explain = true

    public init() {}
}

/// The outcome of one review, for metrics, logs and `locus mutate`.
public struct AdmissionResult: Sendable {
    public enum Outcome: String, Sendable, CaseIterable {
        /// Changed the pod.
        case mutated
        /// Opted in, nothing to change (already wired, or nothing to do).
        case unchanged
        /// Not a pod CREATE, or the pod did not opt in.
        case skipped
        /// Denied with a reason.
        case denied
        /// Admitted despite a problem (policy `allow`), with a warning.
        case allowedWithProblems = "allowed_with_problems"
    }
    public var response: AdmissionResponse
    public var outcome: Outcome
    /// Engines of the datasets involved (for metrics).
    public var engines: [String]
    public var explanations: [Explanation]
    public var problems: [String]
    /// The pod as admitted (nil when skipped or denied).
    public var pod: JSONValue?
    /// What was wired (for metrics and the owner's warning).
    public var injections: [Injection] = []
}

/// The admission decision: pure over the request, the catalog and the policy.
public enum Admission {
    public static func review(_ request: AdmissionRequest, catalog: any DatasetCatalog, policy: AdmissionPolicy) -> AdmissionResult {
        guard request.isPodCreate, let pod = request.object else {
            return AdmissionResult(
                response: .allow(uid: request.uid), outcome: .skipped, engines: [], explanations: [], problems: [], pod: nil)
        }
        let namespace = pod["metadata"]?["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? request.namespace ?? "default"
        return review(pod: pod, namespace: namespace, uid: request.uid, catalog: catalog, policy: policy)
    }

    /// Decides for one pod in `namespace` (also what `locus mutate` runs).
    public static func review(pod: JSONValue, namespace: String, uid: String, catalog: any DatasetCatalog, policy: AdmissionPolicy) -> AdmissionResult {
        let meta = pod["metadata"]
        let labels = meta?["labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        let annotations = meta?["annotations"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        let namespaceLabels = catalog.namespaceLabels(namespace) ?? [:]
        guard let optIn = OptIn.evaluate(
            labels: labels, annotations: annotations, namespaceLabels: namespaceLabels, config: policy.mutation)
        else {
            return AdmissionResult(response: .allow(uid: uid), outcome: .skipped, engines: [], explanations: [], problems: [], pod: nil)
        }
        let resolver = DatasetResolver(catalog: catalog)
        let (refs, malformed) = PodReferences.references(pod: pod, namespace: namespace) {
            resolver.isDatasetClaim(namespace: namespace, claim: $0)
        }
        let (resolved, resolutionProblems) = resolver.resolve(refs, podNamespace: namespace)
        var datasets = resolved
        var socketProblems: [String] = []
        datasets.removeAll { d in
            guard case .sharedMemory(let endpoint) = d.access, !policy.mutation.socketDirectoryAllowed(endpoint.socketDirectory) else { return false }
            socketProblems.append(
                "dataset \(d.ref): its \(d.kind.rawValue)'s socket directory \(endpoint.socketDirectory) is not below an allowed socket root (\(policy.mutation.socketRoots.joined(separator: ", "))), so it is not mounted into the pod")
            return true
        }
        let problems =
            malformed.map { "annotation \(Keys.datasets): \"\($0)\" is not a dataset name or namespace/name" }
            + resolutionProblems.map(\.description) + socketProblems
        let engines = Array(Set(datasets.map(\.engine))).sorted()
        if !problems.isEmpty, policy.onFailure == .deny {
            return denial(uid: uid, problems: problems, engines: engines)
        }
        let mutation = PodMutator.mutate(
            pod: pod, labels: labels, namespace: namespace, datasets: datasets, optIn: optIn, config: policy.mutation,
            podSecurity: PodSecurity(namespaceLabels: namespaceLabels), explain: policy.explain)
        let allProblems = problems + mutation.problems
        if !mutation.problems.isEmpty, policy.onFailure == .deny {
            return denial(uid: uid, problems: allProblems, engines: engines)
        }
        let patch = JSONPatch.diff(from: pod, to: mutation.pod)
        var warnings = allProblems.map { "Locus admitted the pod without this dataset: \($0)" } + mutation.warnings
        if policy.announceInjections, !mutation.injections.isEmpty {
            warnings.insert(announcement(mutation.injections), at: 0)
        }
        var response = AdmissionResponse.allow(uid: uid, warnings: warnings)
        response.patch = patch
        let outcome: AdmissionResult.Outcome = !allProblems.isEmpty ? .allowedWithProblems : (patch.isEmpty ? .unchanged : .mutated)
        return AdmissionResult(
            response: response, outcome: outcome, engines: engines, explanations: mutation.explanations, problems: allProblems,
            pod: mutation.pod, injections: mutation.injections)
    }
}

extension Admission {
    /// The pod denied with every problem as the reason (403, shown to whoever created the pod).
    static func denial(uid: String, problems: [String], engines: [String]) -> AdmissionResult {
        var response = AdmissionResponse.allow(uid: uid)
        response.allowed = false
        response.code = 403
        response.message = "Locus denied the pod: " + problems.joined(separator: "; ")
        return AdmissionResult(response: response, outcome: .denied, engines: engines, explanations: [], problems: problems, pod: nil)
    }

    /// One line for the pod's owner: each dataset wired, by which engine, and how.
    static func announcement(_ injections: [Injection]) -> String {
        "Locus wired " + injections.map { "\($0.dataset) (\($0.engine)) through \($0.how.phrase)" }.joined(separator: "; ")
            + " (recorded in annotation \(Keys.injected))"
    }
}

/// Standard base64 (RFC 4648, padded), appended to a byte buffer.
enum Base64 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.reserveCapacity(out.count + (bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)])
            out.append(alphabet[Int(v & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let v = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(v >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
    }
}
