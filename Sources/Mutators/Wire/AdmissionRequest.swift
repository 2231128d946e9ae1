public import Foundation
public import JSON
import Locality

/// The part of an `AdmissionReview.request` Locus uses.
public struct AdmissionRequest: Sendable {
    public static let versions = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"]

    /// `admission.k8s.io/v1` or `v1beta1`: the response is written in the same version.
    public var apiVersion: String
    public var uid: String
    /// Where the uid's raw bytes (between its quotes) are in the body this was read from.
    public var uidBytes: Range<Int>?
    /// Where the pod's `metadata.managedFields` value is in that body (nil: it has none).
    public var managedFieldsBytes: Range<Int>?
    /// Where the pod's `spec` value is in that body (nil: it has none).
    public var specBytes: Range<Int>?
    public var group: String
    public var kind: String
    public var subResource: String?
    public var operation: String
    public var namespace: String?
    public var name: String?
    public var object: JSONValue?
    public var dryRun: Bool

    /// Whether the pod's containers were read without the members no decision reads (see
    /// `ContainerDetails`): `parse(_:leavingOutContainerDetails:)` with `true`.
    public var leavesOutContainerDetails = false

    /// The parts of an AdmissionReview a decision reads; the rest (userInfo, options, oldObject,
    /// the resource names, and of the pod its status and every metadata field but its name,
    /// namespace, labels and annotations: managedFields, ownerReferences...) is checked to be JSON
    /// but not built. What is not built is not patched either: a decision never changes it.
    static func selection(spec: JSONSelection) -> JSONSelection {
        .members([
            "apiVersion": .all, "kind": .all,
            "request": .members([
                "uid": .located, "kind": .all, "subResource": .all, "operation": .all, "namespace": .all, "name": .all,
                "object": .members([
                    "apiVersion": .all, "kind": .all, "spec": .spanned(spec),
                    "metadata": .members([
                        "name": .all, "namespace": .all, "labels": .all, "annotations": .all, "managedFields": .locatedUnbuilt,
                    ]),
                ]),
                "dryRun": .all,
            ]),
        ])
    }
    static let wholeReview = selection(spec: .all)
    static let leanReview = selection(spec: ContainerDetails.specSelection)

    /// Reads an AdmissionReview; every way it can be malformed is an error that says which. With
    /// `leavingOutContainerDetails`, the containers' members no decision reads are checked but not
    /// built (see `ContainerDetails` for when a decision over such a pod holds).
    public static func parse<Bytes: ContiguousBytes>(_ body: Bytes, leavingOutContainerDetails: Bool = false) throws -> AdmissionRequest {
        let json: JSONValue
        let uidBytes: Range<Int>?
        let managedFieldsBytes: Range<Int>?
        let specBytes: Range<Int>?
        do {
            (json, uidBytes, managedFieldsBytes, specBytes) = try body.withUnsafeBytes {
                try JSONValue.parseLocating(bytes: $0, selecting: leavingOutContainerDetails ? leanReview : wholeReview)
            }
        } catch {
            throw AdmissionReviewError(description: "body is not an AdmissionReview: \(error)")
        }
        guard case .object = json else { throw AdmissionReviewError(description: "body is not a JSON object") }
        guard json["kind"]?.stringValue == "AdmissionReview" else {
            throw AdmissionReviewError(description: "kind must be AdmissionReview, got \(json["kind"]?.jsonString ?? "nothing")")
        }
        guard let version = json["apiVersion"]?.stringValue, versions.contains(version) else {
            throw AdmissionReviewError(
                description:
                    "apiVersion must be one of \(versions.joined(separator: ", ")), got \(json["apiVersion"]?.jsonString ?? "nothing")")
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
            apiVersion: version, uid: uid, uidBytes: uidBytes, managedFieldsBytes: managedFieldsBytes, specBytes: specBytes,
            group: kind["group"]?.stringValue ?? "", kind: kindName,
            subResource: request["subResource"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
            operation: operation, namespace: request["namespace"]?.stringValue, name: request["name"]?.stringValue,
            object: object?.isNull == false ? object : nil, dryRun: request["dryRun"]?.boolValue ?? false,
            leavesOutContainerDetails: leavingOutContainerDetails)
    }

    /// This request read whole from `body`, the bytes it was read from: a request read without its
    /// containers' details gets its pod's spec read again, whole (the rest of the review was read
    /// the same either way); otherwise, or when the spec cannot be told apart, `body` is read again.
    public func readWhole<Bytes: ContiguousBytes>(from body: Bytes) throws -> AdmissionRequest {
        guard leavesOutContainerDetails else { return self }
        // The pod kept is the last one read, so the spec read last is its own when it has one.
        if let specBytes, case .object(var pod)? = object, pod["spec"] != nil {
            let spec: JSONValue? = try? body.withUnsafeBytes { raw in
                guard specBytes.upperBound <= raw.count else { return nil }
                return try JSONValue.parse(bytes: UnsafeRawBufferPointer(rebasing: raw[specBytes]), selecting: .all)
            }
            if let spec {
                pod["spec"] = spec
                var whole = self
                whole.object = .object(pod)
                whole.leavesOutContainerDetails = false
                return whole
            }
        }
        return try Self.parse(body)
    }

    public var isPodCreate: Bool { group.isEmpty && kind == "Pod" && subResource == nil && operation == "CREATE" }
}
