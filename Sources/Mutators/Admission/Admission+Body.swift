public import Foundation
public import JSON
public import Locality

extension Admission {
    /// Reads an AdmissionReview's bytes and decides it, as `/mutate` does: the pod is read without
    /// its containers' details (`ContainerDetails`), and read whole where a dataset's wiring reads
    /// them (shared memory: found as the datasets are resolved, before anything is decided) or the
    /// patch would reach them (then decided again; only the pod's spec is read again). The answer
    /// is the one the whole review gets.
    public static func review(
        body: UnsafeRawBufferPointer, catalog: any DatasetCatalog, policy: AdmissionPolicy, memo: ResolutionMemo? = nil,
        locality: LocalityIndex.Snapshot? = nil, now: Date = Date()
    ) throws -> (request: AdmissionRequest, result: AdmissionResult) {
        let lean = try AdmissionRequest.parse(body, leavingOutContainerDetails: true)
        if let result = review(lean, catalog: catalog, policy: policy, memo: memo, locality: locality, now: now, stoppingForDetails: true),
            ContainerDetails.patchKeepsThem(result.response.patch, original: lean.object ?? .null)
        {
            return (lean, result)
        }
        let whole = try lean.readWhole(from: body)
        return (whole, review(whole, catalog: catalog, policy: policy, memo: memo, locality: locality, now: now))
    }
}
