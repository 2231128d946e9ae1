public import Foundation
import JSON
import Synchronization
import Yams

/// Where and how to reach the API server.
public struct KubeConfig: Sendable {
    public var server: URL
    public var credentials: KubeCredentials
    /// PEM bundle of the CAs to trust; nil means the system trust store.
    public var caPEM: [UInt8]?
    public var insecureSkipTLSVerify: Bool
    /// The namespace of the current context (or the service account's), for information.
    public var namespace: String?
    /// Where this configuration came from, for logs.
    public var source: String

    public init(
        server: URL, credentials: KubeCredentials = .none, caPEM: [UInt8]? = nil,
        insecureSkipTLSVerify: Bool = false, namespace: String? = nil, source: String = "explicit"
    ) {
        self.server = server
        self.credentials = credentials
        self.caPEM = caPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.namespace = namespace
        self.source = source
    }

    // MARK: Resolution order

    /// `--kubeconfig`, then `$KUBECONFIG` (first file of the list), then the in-cluster
    /// service-account files.
    public static func resolve(
        explicitPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = InCluster.defaultDirectory
    ) throws -> KubeConfig {
        if let explicitPath, !explicitPath.isEmpty { return try load(path: explicitPath) }
        if let env = environment["KUBECONFIG"], !env.isEmpty {
            let first = env.split(separator: ":").map(String.init).first(where: { !$0.isEmpty })
            if let first { return try load(path: first) }
        }
        return try InCluster.load(environment: environment, directory: serviceAccountDirectory)
    }

    // MARK: kubeconfig files

    public static func load(path: String) throws -> KubeConfig {
        let data = try KubeConfigError.reading(path, what: "kubeconfig")
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(String(decoding: data, as: UTF8.self), source: path, baseDirectory: base)
    }

    /// Parses kubeconfig YAML and selects its current context. Relative file paths are taken
    /// relative to `baseDirectory`, as kubectl does.
    public static func parse(_ yaml: String, source: String = "kubeconfig", baseDirectory: String = ".") throws -> KubeConfig {
        let file: KubeconfigFile
        do {
            file = try YAMLDecoder().decode(KubeconfigFile.self, from: yaml)
        } catch {
            throw KubeConfigError("kubeconfig \(source): not a valid kubeconfig (\(Self.shortReason(error)))")
        }
        guard let contextName = file.currentContext, !contextName.isEmpty else {
            throw KubeConfigError("kubeconfig \(source): current-context is not set")
        }
        guard let context = file.contexts?.first(where: { $0.name == contextName })?.context else {
            throw KubeConfigError("kubeconfig \(source): context \"\(contextName)\" not found")
        }
        guard let cluster = file.clusters?.first(where: { $0.name == context.cluster })?.cluster else {
            throw KubeConfigError("kubeconfig \(source): cluster \"\(context.cluster)\" of context \"\(contextName)\" not found")
        }
        guard let serverString = cluster.server, let server = URL(string: serverString), server.scheme != nil,
            server.host != nil
        else {
            throw KubeConfigError("kubeconfig \(source): cluster \"\(context.cluster)\" has no valid server URL")
        }
        func resolvePath(_ p: String) -> String { p.hasPrefix("/") ? p : "\(baseDirectory)/\(p)" }
        func material(data: String?, file: String?, what: String) throws -> [UInt8]? {
            if let data, !data.isEmpty {
                guard let decoded = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else {
                    throw KubeConfigError("kubeconfig \(source): \(what)-data is not valid base64")
                }
                return Array(decoded)
            }
            if let file, !file.isEmpty {
                return Array(try KubeConfigError.reading(resolvePath(file), what: "kubeconfig \(source): \(what) file"))
            }
            return nil
        }
        let ca = try material(data: cluster.certificateAuthorityData, file: cluster.certificateAuthority, what: "certificate-authority")

        var credentials = KubeCredentials.none
        if let userName = context.user, !userName.isEmpty {
            guard let user = file.users?.first(where: { $0.name == userName })?.user else {
                throw KubeConfigError("kubeconfig \(source): user \"\(userName)\" of context \"\(contextName)\" not found")
            }
            let cert = try material(data: user.clientCertificateData, file: user.clientCertificate, what: "client-certificate")
            let key = try material(data: user.clientKeyData, file: user.clientKey, what: "client-key")
            if let token = user.token, !token.isEmpty {
                credentials = .token(token)
            } else if let tokenFile = user.tokenFile, !tokenFile.isEmpty {
                credentials = .tokenFile(TokenFile(path: resolvePath(tokenFile)))
            } else if let cert, let key {
                credentials = .clientCertificate(certificatePEM: cert, keyPEM: key)
            } else if cert != nil || key != nil {
                throw KubeConfigError(
                    "kubeconfig \(source): user \"\(userName)\" has a client certificate without a key or a key without a certificate")
            } else if user.exec != nil || user.authProvider != nil {
                throw KubeConfigError(
                    "kubeconfig \(source): user \"\(userName)\" uses an exec or auth-provider plugin, which Locus does not run; use a "
                        + "token, token file or client certificate"
                )
            }
        }
        return KubeConfig(
            server: server, credentials: credentials, caPEM: ca,
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify ?? false,
            namespace: context.namespace, source: source)
    }

    public static func shortReason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let ctx):
            return "missing \((ctx.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "wrong type at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let ctx):
            return ctx.debugDescription
        default:
            return "\(error)"
        }
    }

    // MARK: in-cluster

    public enum InCluster {
        public static let defaultDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

        public static func load(environment: [String: String], directory: String = defaultDirectory) throws -> KubeConfig {
            guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
                let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
            else {
                throw KubeConfigError(
                    "no Kubernetes credentials: pass --kubeconfig, set KUBECONFIG, or run in a pod (KUBERNETES_SERVICE_HOST is not set)")
            }
            let hostPart = host.contains(":") ? "[\(host)]" : host  // IPv6
            guard let url = URL(string: "https://\(hostPart):\(port)") else {
                throw KubeConfigError("in-cluster: invalid API server address \(host):\(port)")
            }
            let tokenPath = "\(directory)/token"
            guard FileManager.default.fileExists(atPath: tokenPath) else {
                throw KubeConfigError("in-cluster: service-account token \(tokenPath) does not exist")
            }
            let ca = FileManager.default.contents(atPath: "\(directory)/ca.crt").map(Array.init)
            let ns = FileManager.default.contents(atPath: "\(directory)/namespace").map {
                String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            return KubeConfig(
                server: url, credentials: .tokenFile(TokenFile(path: tokenPath)), caPEM: ca, namespace: ns,
                source: "in-cluster service account")
        }
    }
}

// MARK: kubeconfig file shape (clientcmd/api/v1)
