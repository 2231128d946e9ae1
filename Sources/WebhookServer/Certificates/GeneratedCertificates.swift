import Foundation

/// A CA and a serving certificate signed by it, PEM encoded.
public struct GeneratedCertificates: Sendable {
    public var caCertificatePEM: String
    public var caKeyPEM: String
    public var certificatePEM: String
    public var keyPEM: String

    /// The CA certificate, base64 of its PEM: the `caBundle` of a webhook configuration.
    public var caBundle: String { Data(caCertificatePEM.utf8).base64EncodedString() }

    public static let caCertificateFile = "ca.pem"
    public static let caKeyFile = "ca-key.pem"
    public static let certificateFile = "tls.crt"
    public static let keyFile = "tls.key"
    public static let caBundleFile = "caBundle.b64"

    /// Writes `ca.pem`, `ca-key.pem`, `tls.crt`, `tls.key` and `caBundle.b64` into `directory`.
    /// Keys are written with mode 0600; each file is written atomically.
    public func write(to directory: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func put(_ name: String, _ text: String, secret: Bool) throws {
            let path = (directory as NSString).appendingPathComponent(name)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            try fm.setAttributes([.posixPermissions: secret ? 0o600 : 0o644], ofItemAtPath: path)
        }
        try put(Self.caCertificateFile, caCertificatePEM, secret: false)
        try put(Self.caKeyFile, caKeyPEM, secret: true)
        try put(Self.certificateFile, certificatePEM, secret: false)
        try put(Self.keyFile, keyPEM, secret: true)
        try put(Self.caBundleFile, caBundle + "\n", secret: false)
    }
}
