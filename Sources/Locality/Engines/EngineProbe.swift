public import AsyncHTTPClient
public import Foundation

/// How engines are asked: the HTTP client for engines that speak HTTP, and the bound on each call.
public struct EngineProbe: Sendable {
    public var http: HTTPClient
    public var timeout: Duration
    public var now: @Sendable () -> Date

    public init(http: HTTPClient, timeout: Duration = .seconds(2), now: @escaping @Sendable () -> Date = { Date() }) {
        self.http = http
        self.timeout = timeout
        self.now = now
    }
}
