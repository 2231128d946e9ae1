import WebhookServer

public enum WebhookServerTestCerts: Sendable {
    public static func make(dns: [String] = ["localhost"], ip: [String] = ["127.0.0.1"]) throws -> GeneratedCertificates {
        try CertGenerator.generate(dnsNames: dns, ipAddresses: ip)
    }
}
