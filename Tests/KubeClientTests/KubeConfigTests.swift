import Foundation
import TestSupport
import Testing

@testable import KubeClient

@Suite("kubeconfig and in-cluster configuration")
struct KubeConfigTests {
    static let caB64 = Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8).base64EncodedString()

    @Test func tokenUserOfCurrentContext() throws {
        let yaml = """
            apiVersion: v1
            kind: Config
            current-context: prod
            clusters:
            - name: dev
              cluster: {server: "https://dev.example:6443"}
            - name: prod
              cluster:
                server: https://10.0.0.1:6443
                certificate-authority-data: \(Self.caB64)
            contexts:
            - name: dev
              context: {cluster: dev, user: dev-user}
            - name: prod
              context: {cluster: prod, user: admin, namespace: ml}
            users:
            - name: dev-user
              user: {token: dev-token}
            - name: admin
              user: {token: prod-token}
            """
        let c = try KubeConfig.parse(yaml)
        #expect(c.server.absoluteString == "https://10.0.0.1:6443")
        #expect(c.namespace == "ml")
        #expect(c.caPEM.map { String(decoding: $0, as: UTF8.self) }?.hasPrefix("-----BEGIN CERTIFICATE-----") == true)
        guard case .token(let t) = c.credentials else {
            Issue.record("expected a token")
            return
        }
        #expect(t == "prod-token")
        #expect(c.insecureSkipTLSVerify == false)
    }

    @Test func inlineClientCertificateAndInsecure() throws {
        let cert = Data("CERT".utf8).base64EncodedString()
        let key = Data("KEY".utf8).base64EncodedString()
        let yaml = """
            current-context: c
            clusters: [{name: k, cluster: {server: "https://k:6443", insecure-skip-tls-verify: true}}]
            contexts: [{name: c, context: {cluster: k, user: u}}]
            users: [{name: u, user: {client-certificate-data: \(cert), client-key-data: \(key)}}]
            """
        let c = try KubeConfig.parse(yaml)
        #expect(c.insecureSkipTLSVerify)
        guard case .clientCertificate(let certPEM, let keyPEM) = c.credentials else {
            Issue.record("expected a client cert")
            return
        }
        #expect(certPEM == Array("CERT".utf8))
        #expect(keyPEM == Array("KEY".utf8))
    }

    @Test func filePathsAreRelativeToTheKubeconfig() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        try dir.write("ca.crt", "CA-PEM")
        try dir.write("client.crt", "C")
        try dir.write("client.key", "K")
        try dir.write(
            "config",
            """
            current-context: c
            clusters: [{name: k, cluster: {server: "https://k:6443", certificate-authority: ca.crt}}]
            contexts: [{name: c, context: {cluster: k, user: u}}]
            users: [{name: u, user: {client-certificate: client.crt, client-key: \(dir.file("client.key"))}}]
            """)
        let c = try KubeConfig.load(path: dir.file("config"))
        #expect(c.caPEM == Array("CA-PEM".utf8))
        guard case .clientCertificate(let cert, let key) = c.credentials else {
            Issue.record("expected a client cert")
            return
        }
        #expect(cert == Array("C".utf8) && key == Array("K".utf8))
    }

    @Test func tokenFileIsReReadWhenRotated() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        try dir.write("token", "first\n")
        try dir.write(
            "config",
            """
            current-context: c
            clusters: [{name: k, cluster: {server: "https://k:6443"}}]
            contexts: [{name: c, context: {cluster: k, user: u}}]
            users: [{name: u, user: {tokenFile: token}}]
            """)
        let c = try KubeConfig.load(path: dir.file("config"))
        guard case .tokenFile(let file) = c.credentials else {
            Issue.record("expected a token file")
            return
        }
        #expect(try file.token() == "first")
        // Rotation the way the kubelet does it: a new file renamed over the old one.
        try dir.write("token.new", "second-and-longer")
        #expect(rename(dir.file("token.new"), dir.file("token")) == 0)
        #expect(try file.token() == "second-and-longer")
        try dir.write("token", "")
        #expect(throws: KubeConfigError.self) { try file.token() }
    }

    @Test(arguments: [
        ("current-context: x\nclusters: []\ncontexts: []\n", "context \"x\" not found"),
        ("clusters: []\n", "current-context is not set"),
        (
            "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: "
                + "\"https://k\"}}]\nusers: []\n",
            "user \"u\" of context \"c\" not found"
        ),
        (
            "current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\nclusters: [{name: k, cluster: {server: \"not a url\"}}]\n",
            "no valid server URL"
        ),
        (
            "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: "
                + "\"https://k\"}}]\nusers: [{name: u, user: {exec: {command: aws}}}]\n",
            "exec or auth-provider"
        ),
        (
            "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: "
                + "\"https://k\", certificate-authority-data: \"!!!\"}}]\nusers: [{name: u, user: {token: t}}]\n",
            "not valid base64"
        ),
        (
            "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: "
                + "\"https://k\"}}]\nusers: [{name: u, user: {client-key-data: \(Data("K".utf8).base64EncodedString())}}]\n",
            "without a key or a key without a certificate"
        ),
        ("{{{ not yaml", "not a valid kubeconfig"),
        ("clusters: 7\n", "not a valid kubeconfig"),
    ])
    func malformedKubeconfigsGiveAClearError(yaml: String, expected: String) {
        do {
            _ = try KubeConfig.parse(yaml, source: "test.yaml")
            Issue.record("expected an error containing \(expected)")
        } catch let e as KubeConfigError {
            #expect(e.description.contains(expected), "\(e.description)")
            #expect(e.description.contains("test.yaml"))
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func resolutionOrder() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let config = { (server: String) in
            "current-context: c\nclusters: [{name: k, cluster: {server: \"\(server)\"}}]\ncontexts: [{name: c, context: {cluster: k}}]\n"
        }
        try dir.write("explicit", config("https://explicit:1"))
        try dir.write("env", config("https://env:2"))
        try dir.write("token", "sa-token")
        try dir.write("ca.crt", "CA")
        try dir.write("namespace", "locus-system\n")
        let incluster = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        var env = incluster
        env["KUBECONFIG"] = dir.file("env") + ":" + dir.file("explicit")
        #expect(
            try KubeConfig.resolve(explicitPath: dir.file("explicit"), environment: env, serviceAccountDirectory: dir.path).server.host
                == "explicit")
        #expect(try KubeConfig.resolve(explicitPath: nil, environment: env, serviceAccountDirectory: dir.path).server.host == "env")
        let c = try KubeConfig.resolve(explicitPath: nil, environment: incluster, serviceAccountDirectory: dir.path)
        #expect(c.server.absoluteString == "https://10.96.0.1:443")
        #expect(c.namespace == "locus-system")
        #expect(c.caPEM == Array("CA".utf8))
        guard case .tokenFile(let f) = c.credentials else {
            Issue.record("expected the service-account token file")
            return
        }
        #expect(try f.token() == "sa-token")
        #expect(throws: KubeConfigError.self) {
            try KubeConfig.resolve(explicitPath: nil, environment: [:], serviceAccountDirectory: dir.path)
        }
        #expect(throws: KubeConfigError.self) {
            try KubeConfig.resolve(explicitPath: dir.file("missing"), environment: [:], serviceAccountDirectory: dir.path)
        }
    }

    @Test func ipv6InClusterHost() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        try dir.write("token", "t")
        let c = try KubeConfig.InCluster.load(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"], directory: dir.path)
        #expect(c.server.absoluteString == "https://[fd00::1]:443")
    }
}
