import AsyncHTTPClient
public import Foundation
public import Logging
public import NIOCore
import NIOHTTP1
import NIOSSL

/// A typed client of the Kubernetes API over HTTPS.
///
/// Two HTTP clients share one event loop group: one for ordinary requests, with a short read
/// timeout, and one for watches, whose read timeout is longer than the longest watch the
/// client asks for, so that a dead stream is always detected.
public final class KubeAPIClient: Sendable {
    public let config: KubeConfig
    let http: HTTPClient
    let watchHTTP: HTTPClient
    let logger: Logger
    public let requestTimeout: TimeAmount
    let baseURL: String

    public init(
        config: KubeConfig, requestTimeout: TimeAmount = .seconds(30), watchIdleTimeout: TimeAmount = .seconds(660),
        logger: Logger = Logger(label: "locus.kube")
    ) throws {
        self.config = config
        self.logger = logger
        self.requestTimeout = requestTimeout
        var base = config.server.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let ca = config.caPEM {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            } catch {
                throw KubeConfigError("\(config.source): certificate authority is not valid PEM")
            }
        }
        if config.insecureSkipTLSVerify { tls.certificateVerification = .none }
        if case .clientCertificate(let certPEM, let keyPEM) = config.credentials {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certPEM).map { .certificate($0) }
            } catch {
                throw KubeConfigError("\(config.source): client certificate is not valid PEM")
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyPEM, format: .pem))
            } catch {
                throw KubeConfigError("\(config.source): client key is not a valid PEM private key")
            }
        }
        func make(read: TimeAmount, connections: Int) -> HTTPClient {
            var c = HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow,
                timeout: .init(connect: .seconds(10), read: read), decompression: .disabled)
            c.httpVersion = .http1Only
            c.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
            // A failed connect fails the request at once; the informers' own backoff decides when to
            // try again. The pool's own retries back off by themselves (up to a minute after ~30
            // failed attempts, which 14 informers reach in seconds), so calls would wait out their
            // whole timeout inside the pool during an outage and keep waiting after it ends.
            c.connectionPool.retryConnectionEstablishment = false
            return HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
        }
        self.http = make(read: requestTimeout, connections: 8)
        // Over HTTP/1.1 every open watch holds a connection for minutes: one per informer (16 with
        // every Fluid runtime kind installed) and room to spare. With the client's default of 8,
        // the other informers waited for a free connection and missed events for minutes.
        self.watchHTTP = make(read: watchIdleTimeout, connections: Self.maxWatchConnections)
    }

    /// Watches that can be open at once (each holds an HTTP/1.1 connection).
    public static let maxWatchConnections = 64

    /// Must be called before the client is released.
    public func shutdown() async {
        try? await http.shutdown()
        try? await watchHTTP.shutdown()
    }

    // MARK: Typed calls

    public func get<T: Decodable>(_ type: T.Type, _ resource: Resource, namespace: String? = nil, name: String) async throws -> T {
        let path = resource.path(namespace: namespace, name: name)
        return try decode(T.self, path: path, try await send("GET", path: path))
    }

    /// One page of a collection. With `metadataOnly` the API server sends each object's
    /// `metadata` alone (`PartialObjectMetadataList`), which `T` decodes with everything else
    /// absent; a server that cannot sends whole objects instead.
    public func list<T: Decodable & Sendable>(
        _ type: T.Type, _ resource: Resource, namespace: String? = nil, options: ListOptions = ListOptions(), metadataOnly: Bool = false
    ) async throws -> ObjectList<T> {
        let path = resource.path(namespace: namespace)
        let body = try await send("GET", path: path, query: options.query, accept: metadataOnly ? Self.metadataListAccept : nil)
        return try decode(ObjectList<T>.self, path: path, body)
    }

    /// The `Accept` header of a metadata-only list, as client-go's metadata client sends it
    /// (JSON here), with plain JSON as the fallback.
    static let metadataListAccept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
    /// The same for a watch or a GET: their objects come one at a time.
    static let metadataAccept = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"

    /// Lists every page (`limit`/`continue`) and returns the items and the list's resourceVersion.
    /// `keep` is applied to each page's items as the page is read, so that what is not kept of a
    /// large collection is freed page by page, not held until the last page.
    public func listAll<T: Decodable & Sendable>(
        _ type: T.Type, _ resource: Resource, namespace: String? = nil, labelSelector: String? = nil, pageSize: Int = 500,
        metadataOnly: Bool = false, keep: (T) -> T = { $0 }
    ) async throws -> (items: [T], resourceVersion: String?) {
        var items: [T] = []
        var token: String? = nil
        var firstRV: String? = nil
        repeat {
            let page = try await list(
                T.self, resource, namespace: namespace,
                options: ListOptions(labelSelector: labelSelector, limit: pageSize, continueToken: token), metadataOnly: metadataOnly)
            items.append(contentsOf: page.items.lazy.map(keep))
            // Every page of one paginated list is served from the same snapshot; the first page's
            // resourceVersion is the one to watch from.
            if firstRV == nil { firstRV = page.metadata.resourceVersion }
            token = page.metadata.continue.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return (items, firstRV)
    }

    public func patch<T: Decodable>(
        _ type: T.Type, _ resource: Resource, namespace: String? = nil, name: String, body: Data, patchType: PatchType,
        fieldManager: String? = "locus"
    ) async throws -> T {
        let path = resource.path(namespace: namespace, name: name)
        var query: [(String, String)] = []
        if let fieldManager { query.append(("fieldManager", fieldManager)) }
        let buffer = try await send("PATCH", path: path, query: query, body: body, contentType: patchType.rawValue)
        return try decode(T.self, path: path, buffer)
    }

    /// POST: creates `body` (JSON) in the collection; the API server's copy comes back.
    public func create<T: Decodable>(_ type: T.Type, _ resource: Resource, namespace: String? = nil, body: Data) async throws -> T {
        let path = resource.path(namespace: namespace)
        return try decode(T.self, path: path, try await send("POST", path: path, query: [("fieldManager", "locus")], body: body))
    }

    /// PUT: replaces the object with `body`, whose `metadata.resourceVersion` is the precondition
    /// (409 Conflict when the object changed since it was read).
    public func update<T: Decodable>(
        _ type: T.Type, _ resource: Resource, namespace: String? = nil, name: String, body: Data
    ) async throws -> T {
        let path = resource.path(namespace: namespace, name: name)
        return try decode(T.self, path: path, try await send("PUT", path: path, query: [("fieldManager", "locus")], body: body))
    }

    public func serverVersion() async throws -> ServerVersion {
        try decode(ServerVersion.self, path: "/version", try await send("GET", path: "/version"))
    }

    /// Starts a watch and returns its events as they arrive. The sequence ends when the server
    /// closes the stream (its `timeoutSeconds` elapsed) and throws when the connection fails.
    /// A non-200 answer (e.g. 410 for a too-old resourceVersion) is thrown before any event.
    public func watch<T: KubeObject>(
        _ type: T.Type, _ resource: Resource, namespace: String? = nil, options: WatchOptions, metadataOnly: Bool = false
    ) async throws -> AsyncThrowingStream<WatchEvent<T>, any Error> {
        let path = resource.path(namespace: namespace)
        let response = try await execute(
            client: watchHTTP, method: "GET", path: path, query: options.query, accept: metadataOnly ? Self.metadataAccept : nil)
        guard response.status == .ok else {
            let body = try? await response.body.collect(upTo: 1 << 20)
            throw statusError("GET", path, Int(response.status.code), body)
        }
        let (stream, continuation) = AsyncThrowingStream<WatchEvent<T>, any Error>.makeStream()
        let task = Task {
            do {
                try await Self.forEachLine(of: response.body) { line in
                    continuation.yield(try Self.decodeEvent(T.self, line: line, path: path))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: Self.transportError(error, "GET", path))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// The longest watch event read, in bytes: a stream that never sends a newline must not fill memory.
    static let maxWatchLine = 32 << 20

    /// Calls `handle` with each line of a watch stream (one JSON event per line) as it arrives:
    /// lines split across chunks arrive whole, a last line without a newline is read too, blank
    /// lines are skipped, and a line longer than `maxLine` bytes is an error. NIO's `splitLines`
    /// does the splitting; it breaks lines at CR, VT and FF as well as LF, which a watch stream
    /// never holds inside an event (its JSON is compact, and JSON escapes control characters in
    /// strings).
    static func forEachLine<Body: AsyncSequence>(
        of body: Body, maxLine: Int = maxWatchLine, _ handle: (ByteBuffer) throws -> Void
    ) async throws where Body.Element == ByteBuffer {
        do {
            for try await line in body.splitLines(maximumBufferSize: maxLine)
            where line.readableBytesView.contains(where: { $0 > UInt8(ascii: " ") }) {
                try handle(line)
            }
        } catch is ByteToMessageDecoderError.PayloadTooLargeError {
            throw KubeAPIError.decoding(path: "watch", reason: "a watch event is longer than \(maxLine) bytes")
        }
    }

    static func decodeEvent<T: KubeObject>(_ type: T.Type, line: ByteBuffer, path: String) throws -> WatchEvent<T> {
        let data = Data(line.readableBytesView)
        let decoder = JSONDecoder()
        do {
            let envelope = try decoder.decode(EventEnvelope.self, from: data)
            switch envelope.type {
            case .error:
                let status = try decoder.decode(EventObject<Status>.self, from: data).object
                return WatchEvent(type: .error, status: status)
            case .bookmark:
                let meta = try decoder.decode(EventObject<MetadataOnly>.self, from: data).object
                return WatchEvent(type: .bookmark, resourceVersion: meta.metadata?.resourceVersion)
            case .added, .modified, .deleted:
                let object = try decoder.decode(EventObject<T>.self, from: data).object
                return WatchEvent(type: envelope.type, object: object)
            }
        } catch {
            throw KubeAPIError.decoding(path: path, reason: "watch event: \(KubeConfig.shortReason(error))")
        }
    }

    // MARK: Transport

    /// Sends a request and returns the body of a 2xx answer; anything else is thrown as `KubeAPIError`.
    /// A 401 with a token file re-reads the file once and retries (the token was rotated).
    public func send(
        _ method: String, path: String, query: [(String, String)] = [], body: Data? = nil,
        contentType: String? = nil, accept: String? = nil, maxBody: Int = 64 << 20
    ) async throws -> ByteBuffer {
        var retried = false
        while true {
            let response = try await execute(
                client: http, method: method, path: path, query: query, body: body, contentType: contentType, accept: accept)
            let buffer: ByteBuffer
            do {
                buffer = try await response.body.collect(upTo: maxBody)
            } catch is NIOTooManyBytesError {
                throw KubeAPIError.tooLarge(method: method, path: path, limit: maxBody)
            } catch {
                throw Self.transportError(error, method, path)
            }
            let code = Int(response.status.code)
            if (200..<300).contains(code) { return buffer }
            if code == 401, !retried, case .tokenFile(let file) = config.credentials {
                file.invalidate()
                retried = true
                continue
            }
            throw statusError(method, path, code, buffer)
        }
    }

    func execute(
        client: HTTPClient, method: String, path: String, query: [(String, String)], body: Data? = nil,
        contentType: String? = nil, accept: String? = nil
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: baseURL + path + Self.encodeQuery(query))
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Accept", value: accept ?? "application/json")
        request.headers.add(name: "User-Agent", value: "locus/1.0")
        switch config.credentials {
        case .token(let token):
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        case .tokenFile(let file):
            do {
                request.headers.add(name: "Authorization", value: "Bearer \(try file.token())")
            } catch {
                throw KubeAPIError.credentials("\(error)")
            }
        case .none, .clientCertificate:
            break
        }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
        }
        do {
            return try await client.execute(request, timeout: requestTimeout, logger: nil)
        } catch {
            throw Self.transportError(error, method, path)
        }
    }

    func statusError(_ method: String, _ path: String, _ code: Int, _ body: ByteBuffer?) -> KubeAPIError {
        let status = body.flatMap { try? JSONDecoder().decode(Status.self, from: Data($0.readableBytesView)) }
        return .status(method: method, path: path, code: code, status: status)
    }

    static func transportError(_ error: any Error, _ method: String, _ path: String) -> any Error {
        if error is KubeAPIError || error is CancellationError { return error }
        return KubeAPIError.transport(method: method, path: path, reason: String(describing: error))
    }

    func decode<T: Decodable>(_ type: T.Type, path: String, _ buffer: ByteBuffer) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw KubeAPIError.decoding(path: path, reason: KubeConfig.shortReason(error))
        }
    }

    private static let queryAllowed: CharacterSet = {
        var s = CharacterSet.alphanumerics
        s.insert(charactersIn: "-._~")
        return s
    }()

    static func encodeQuery(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        return "?"
            + query.map { k, v in
                "\(k)=\(v.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? v)"
            }.joined(separator: "&")
    }
}
