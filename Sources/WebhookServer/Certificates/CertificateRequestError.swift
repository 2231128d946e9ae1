import Foundation

public struct CertificateRequestError: Error, CustomStringConvertible {
    public let description: String
}
