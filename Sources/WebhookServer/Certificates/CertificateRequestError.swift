import Crypto
import Foundation
import SwiftASN1
import X509

public struct CertificateRequestError: Error, CustomStringConvertible {
    public let description: String
}
