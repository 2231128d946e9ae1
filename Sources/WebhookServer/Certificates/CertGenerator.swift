import Crypto
public import Foundation
import SwiftASN1
import X509

/// Makes certificates with swift-certificates (ECDSA P-256), no openssl involved.
public enum CertGenerator {
    /// - Parameters:
    ///   - dnsNames: DNS subject alternative names of the serving certificate; the first is its common name.
    ///   - ipAddresses: IPv4 or IPv6 subject alternative names.
    ///   - validity: how long the certificates are valid.
    public static func generate(
        dnsNames: [String], ipAddresses: [String], validity: TimeInterval = 365 * 24 * 3600,
        commonName: String? = nil, now: Date = Date()
    ) throws -> GeneratedCertificates {
        guard !dnsNames.isEmpty || !ipAddresses.isEmpty else {
            throw CertificateRequestError(description: "at least one --dns name or --ip address is required")
        }
        var sans: [GeneralName] = dnsNames.map { .dnsName($0) }
        for ip in ipAddresses {
            guard let bytes = parseIP(ip) else {
                throw CertificateRequestError(description: "\"\(ip)\" is not an IPv4 or IPv6 address")
            }
            sans.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        for name in dnsNames where !isValidDNSName(name) {
            throw CertificateRequestError(description: "\"\(name)\" is not a valid DNS name")
        }
        let notBefore = now.addingTimeInterval(-300)
        let notAfter = now.addingTimeInterval(validity)

        let caKey = P256.Signing.PrivateKey()
        let caPrivate = Certificate.PrivateKey(caKey)
        let caName = try DistinguishedName {
            OrganizationName("Locus")
            CommonName("Locus webhook CA")
        }
        let caCert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: caPrivate.publicKey,
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: caName, subject: caName,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: caPrivate.publicKey)
            },
            issuerPrivateKey: caPrivate)

        let leafKey = P256.Signing.PrivateKey()
        let leafPrivate = Certificate.PrivateKey(leafKey)
        let cn = commonName ?? dnsNames.first ?? ipAddresses[0]
        let leafName = try DistinguishedName {
            OrganizationName("Locus")
            CommonName(cn)
        }
        let leafCert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: leafPrivate.publicKey,
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: caName, subject: leafName,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(sans)
                AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: caPrivate.publicKey).keyIdentifier)
            },
            issuerPrivateKey: caPrivate)

        return GeneratedCertificates(
            caCertificatePEM: try caCert.serializeAsPEM().pemString,
            caKeyPEM: caKey.pemRepresentation,
            certificatePEM: try leafCert.serializeAsPEM().pemString,
            keyPEM: leafKey.pemRepresentation)
    }

    static func parseIP(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func isValidDNSName(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 253 else { return false }
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        return labels.enumerated().allSatisfy { i, label in
            if label == "*" && i == 0 { return true }
            return !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}
