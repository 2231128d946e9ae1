import Foundation
import Locality

/// A malformed AdmissionReview: answered with HTTP 400 and this reason.
public struct AdmissionReviewError: Error, CustomStringConvertible, Equatable {
    public let description: String
}
