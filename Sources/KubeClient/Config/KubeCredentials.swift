import Foundation
import Synchronization

/// How Locus authenticates to the API server.
public enum KubeCredentials: Sendable {
    case none
    /// A static bearer token (kubeconfig `token`).
    case token(String)
    /// A token re-read from a file when it changes (kubeconfig `tokenFile`, projected service-account tokens).
    case tokenFile(TokenFile)
    /// A client certificate and key, PEM.
    case clientCertificate(certificatePEM: [UInt8], keyPEM: [UInt8])
}
