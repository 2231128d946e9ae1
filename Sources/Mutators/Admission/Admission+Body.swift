public import Foundation
public import JSON
public import Locality

extension Admission {
    /// Reads an AdmissionReview's bytes and decides it, as `/mutate` does: the pod is read without
    /// its containers' details (`ContainerDetails`), and read whole and decided again only when
    /// the patch would reach them. The answer is the one the whole review gets.
    public static func review(
        body: UnsafeRawBufferPointer, catalog: any DatasetCatalog, policy: AdmissionPolicy, memo: ResolutionMemo? = nil,
        locality: LocalityIndex.Snapshot? = nil, now: Date = Date()
    ) throws -> (request: AdmissionRequest, result: AdmissionResult) {
        let lean = try AdmissionRequest.parse(body, leavingOutContainerDetails: true)
        let result = review(lean, catalog: catalog, policy: policy, memo: memo, locality: locality, now: now)
        if let original = lean.object, !ContainerDetails.patchKeepsThem(result.response.patch, original: original) {
            let whole = try AdmissionRequest.parse(body)
            return (whole, review(whole, catalog: catalog, policy: policy, memo: memo, locality: locality, now: now))
        }
        return (lean, result)
    }
}
