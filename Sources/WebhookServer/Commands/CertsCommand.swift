public import ArgumentParser
import Foundation
import KubeClient
import Locality

public struct Certs: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Generate a CA and a serving certificate; print the base64 caBundle for the webhook configuration.")

    @Option(help: "Directory to write ca.pem, ca-key.pem, tls.crt, tls.key and caBundle.b64 into.")
    var out: String
    @Option(parsing: .upToNextOption, help: "DNS names of the serving certificate (e.g. locus.locus-system.svc).")
    var dns: [String] = []
    @Option(parsing: .upToNextOption, help: "IP addresses of the serving certificate.")
    var ip: [String] = []
    @Option(help: "Validity in days (default 365).")
    var days: Int = 365

    public init() {}

    public func run() throws {
        guard days > 0, days <= 3650 else { throw ConfigError("--days must be in 1...3650") }
        let generated = try CertGenerator.generate(dnsNames: dns, ipAddresses: ip, validity: Double(days) * 86400)
        do {
            try generated.write(to: out)
        } catch {
            throw RuntimeFailure(description: "cannot write certificates into \(out): \(error.localizedDescription)")
        }
        FileHandle.standardError.write(
            Data("wrote \(out)/ca.pem, \(out)/ca-key.pem, \(out)/tls.crt, \(out)/tls.key, \(out)/caBundle.b64\n".utf8))
        print(generated.caBundle)
    }
}
