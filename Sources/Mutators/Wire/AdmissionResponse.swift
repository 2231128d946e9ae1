import Foundation
public import JSON
import Locality

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
    public func review(apiVersion: String) -> [UInt8] { reviewMarkingUID(apiVersion: apiVersion).bytes }

    /// `review(apiVersion:)`, where in it the uid is written (the JSON string with its quotes), and
    /// the patch's JSON before base64.
    public func reviewMarkingUID(apiVersion: String) -> (bytes: [UInt8], uid: Range<Int>, patch: [UInt8]) {
        var out: [UInt8] = []
        out.reserveCapacity(160 + patch.count * 160)
        out.append(contentsOf: #"{"apiVersion":"#.utf8)
        JSONValue.string(apiVersion).write(into: &out)
        out.append(contentsOf: #","kind":"AdmissionReview","response":{"uid":"#.utf8)
        let uidStart = out.count
        JSONValue.string(uid).write(into: &out)
        let uidRange = uidStart..<out.count
        var patchJSON: [UInt8] = []
        out.append(contentsOf: (allowed ? #","allowed":true"# : #","allowed":false"#).utf8)
        if !patch.isEmpty {
            out.append(contentsOf: #","patchType":"JSONPatch","patch":""#.utf8)
            patchJSON = JSONPatch.encoded(patch)
            Base64.append(patchJSON, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        if let message {
            out.append(contentsOf: #","status":"#.utf8)
            let status: JSONValue = [
                "code": .integer(Int64(code ?? 403)), "message": .string(message), "status": "Failure", "reason": "Forbidden",
            ]
            status.write(into: &out)
        }
        if !warnings.isEmpty {
            // The API server shows warnings to the user; it truncates long ones, so keep each short and few.
            out.append(contentsOf: #","warnings":"#.utf8)
            // (A string of at most 240 bytes has at most 240 characters: it is not walked.)
            JSONValue.array(warnings.prefix(10).map { .string($0.utf8.count <= 240 ? $0 : String($0.prefix(240))) }).write(into: &out)
        }
        out.append(contentsOf: "}}".utf8)
        return (out, uidRange, patchJSON)
    }
}
