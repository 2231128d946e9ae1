import Foundation
import Synchronization

/// A bearer token kept in a file that may be replaced at any time (a projected service-account
/// token is rotated by the kubelet through an atomic symlink swap). The file is re-read when
/// its modification time or size changes, and at the latest every `maxAge`.
public final class TokenFile: Sendable {
    public let path: String
    let maxAge: Duration
    private struct Cached {
        var token: String
        var stamp: String
        var readAt: ContinuousClock.Instant
    }
    private let cached = Mutex<Cached?>(nil)

    public init(path: String, maxAge: Duration = .seconds(60)) {
        self.path = path
        self.maxAge = maxAge
    }

    /// The current token. Throws when the file cannot be read or is empty.
    public func token() throws -> String {
        let stamp = Self.stamp(path)
        let now = ContinuousClock.now
        if let c = cached.withLock({ $0 }), c.stamp == stamp, now - c.readAt < maxAge { return c.token }
        let data = try KubeConfigError.reading(path, what: "token file")
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw KubeConfigError("token file \(path) is empty") }
        cached.withLock { $0 = Cached(token: token, stamp: stamp, readAt: now) }
        return token
    }

    /// Forget the cached token, so that the next request re-reads the file (after a 401).
    public func invalidate() { cached.withLock { $0 = nil } }

    static func stamp(_ path: String) -> String { FileStamp.of(path) }
}
