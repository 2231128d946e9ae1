import Foundation
import KubeClient
public import Logging
public import NIOSSL
import Synchronization

/// The serving certificate and key, re-read from their files when they change.
///
/// Each new connection takes the current `NIOSSLContext`; connections already open keep the
/// one they started with, so a rotation never drops a connection. A pair that does not load
/// (a Secret half-written during rotation, a key that does not match the certificate) is
/// logged and ignored: the previous pair keeps serving until a valid new one is read.
public final class CertificateStore: Sendable {
    public let certificatePath: String
    public let keyPath: String
    /// CA certificates (PEM) that client certificates are checked against; nil: none asked for.
    public let clientCAPath: String?
    let logger: Logger
    private struct Current {
        var context: NIOSSLContext
        var stamp: String
        var notAfter: Date?
        var fingerprint: String
    }
    private let current: Mutex<Current>
    private let reloads = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)

    public init(certificatePath: String, keyPath: String, clientCAPath: String? = nil, logger: Logger) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.clientCAPath = clientCAPath
        self.logger = logger
        let stamp = Self.stamp(Self.watched(certificatePath, keyPath, clientCAPath))
        let (ctx, fp) = try Self.load(certificatePath: certificatePath, keyPath: keyPath, clientCAPath: clientCAPath)
        self.current = Mutex(Current(context: ctx, stamp: stamp, fingerprint: fp))
    }

    public var context: NIOSSLContext { current.withLock { $0.context } }
    /// A short fingerprint of the certificate being served now (for logs and tests).
    public var fingerprint: String { current.withLock { $0.fingerprint } }
    public var reloadCount: Int { reloads.load(ordering: .relaxed) }
    public var failedReloadCount: Int { failures.load(ordering: .relaxed) }

    /// TLS 1.2 and 1.3 only, server side. With `clientCAPath`, clients are asked for a
    /// certificate, and one that is presented must chain to those CAs (the handshake fails
    /// otherwise); whether a route requires one is the router's decision.
    public static func serverConfiguration(certificatePath: String, keyPath: String, clientCAPath: String? = nil) throws -> TLSConfiguration
    {
        let chain = try certificates(in: certificatePath, what: "certificate")
        let keyBytes = try pemBytes(keyPath, what: "key")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            throw TLSLoadError(description: "key \(keyPath) cannot be read as a PEM private key")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        tls.maximumTLSVersion = .tlsv13
        if let clientCAPath {
            tls.trustRoots = .certificates(try certificates(in: clientCAPath, what: "client CA"))
            tls.certificateVerification = .optionalVerification
            tls.sendCANameList = true
        }
        return tls
    }

    /// The certificates of a PEM file, at least one; `what` names the file in the error.
    static func certificates(in path: String, what: String) throws -> [NIOSSLCertificate] {
        let bytes = try pemBytes(path, what: what)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw TLSLoadError(description: "\(what) \(path) cannot be read as PEM")
        }
        guard !certificates.isEmpty else { throw TLSLoadError(description: "\(what) \(path) holds no certificate") }
        return certificates
    }

    /// A PEM file's bytes, read once (`FileAccess.read`: missing, permission denied, …).
    static func pemBytes(_ path: String, what: String) throws -> [UInt8] {
        do {
            return Array(try FileAccess.read(path, what: what))
        } catch let error as FileAccessError {
            throw TLSLoadError(description: error.description)
        }
    }

    static func load(certificatePath: String, keyPath: String, clientCAPath: String? = nil) throws -> (NIOSSLContext, String) {
        let tls = try serverConfiguration(certificatePath: certificatePath, keyPath: keyPath, clientCAPath: clientCAPath)
        let context: NIOSSLContext
        do {
            // Fails when the key does not match the certificate.
            context = try NIOSSLContext(configuration: tls)
        } catch {
            throw TLSLoadError(description: "certificate \(certificatePath) and key \(keyPath) do not form a usable pair")
        }
        // The served certificate as it was read for the context, not the file read again.
        let served = tls.certificateChain.first.flatMap { source -> NIOSSLCertificate? in
            if case .certificate(let c) = source { return c }
            return nil
        }
        let der = (try? served?.toDERBytes()) ?? []
        var hash: UInt64 = 14_695_981_039_346_656_037
        for b in der { hash = (hash ^ UInt64(b)) &* 1_099_511_628_211 }
        return (context, String(hash, radix: 16))
    }

    /// The files whose change means a reload: the pair, and the client CA when there is one.
    static func watched(_ certificatePath: String, _ keyPath: String, _ clientCAPath: String?) -> [String] {
        [certificatePath, keyPath] + (clientCAPath.map { [$0] } ?? [])
    }

    static func stamp(_ paths: [String]) -> String {
        paths.map(FileStamp.of).joined(separator: ";")
    }

    /// Re-reads the files if they changed since the last successful or failed attempt.
    /// Returns true when a new pair was installed.
    @discardableResult
    public func reloadIfChanged() -> Bool {
        let stamp = Self.stamp(Self.watched(certificatePath, keyPath, clientCAPath))
        if current.withLock({ $0.stamp }) == stamp { return false }
        do {
            let (ctx, fp) = try Self.load(certificatePath: certificatePath, keyPath: keyPath, clientCAPath: clientCAPath)
            current.withLock {
                $0.context = ctx
                $0.stamp = stamp
                $0.fingerprint = fp
            }
            reloads.add(1, ordering: .relaxed)
            logger.info("serving certificate reloaded", metadata: ["certificate": "\(certificatePath)", "fingerprint": "\(fp)"])
            return true
        } catch {
            failures.add(1, ordering: .relaxed)
            // Not recording the stamp would retry a broken pair forever on every poll; a
            // later write changes the stamp and is tried again.
            current.withLock { $0.stamp = stamp }
            logger.warning(
                "new certificate/key not usable yet, still serving the previous one",
                metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Polls the files every `interval` until the task is cancelled.
    public func watch(interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            reloadIfChanged()
        }
    }
}
