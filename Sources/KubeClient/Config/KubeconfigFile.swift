import Foundation
import JSON
import Synchronization

struct KubeconfigFile: Decodable {
    var currentContext: String?
    var clusters: [Named<Cluster>]?
    var contexts: [NamedContext]?
    var users: [NamedUser]?

    enum CodingKeys: String, CodingKey {
        case currentContext = "current-context"
        case clusters, contexts, users
    }

    struct Named<T: Decodable>: Decodable {
        var name: String
        var cluster: T
    }
    struct NamedContext: Decodable {
        var name: String
        var context: Context
    }
    struct NamedUser: Decodable {
        var name: String
        var user: User?
    }
    struct Cluster: Decodable {
        var server: String?
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?
        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
        }
    }
    struct Context: Decodable {
        var cluster: String
        var user: String?
        var namespace: String?
    }
    struct User: Decodable {
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        var exec: JSONValue?
        var authProvider: JSONValue?
        enum CodingKeys: String, CodingKey {
            case token, tokenFile, exec
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case authProvider = "auth-provider"
        }
    }
}
