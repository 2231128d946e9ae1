public import Foundation
public import JSON
public import KubeClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
public import WebhookServer

/// An in-process HTTPS server that speaks the Kubernetes list/watch protocol the way
/// kube-apiserver does (shapes in Fixtures/kube/README.md):
/// - collections at `/api/v1/...` and `/apis/<group>/<version>/...`, lists with
///   `metadata.resourceVersion`, `limit`/`continue` pagination and `remainingItemCount`;
/// - `?watch=true&resourceVersion=N`: HTTP 200, `Transfer-Encoding: chunked`, one JSON event per
///   line, replaying every event after N, then live events; BOOKMARK events when
///   `allowWatchBookmarks=true`; a clean end after `timeoutSeconds`;
/// - a resourceVersion older than the compaction point: an ERROR event with a 410 `Status`
///   (the watch cache's behaviour), and HTTP 410 for an expired `continue` token;
/// - 401 for a wrong bearer token, 403/404 `Status` bodies, a collection refused with the
///   API server's own 403 (`forbid`);
/// - metadata-only lists and watches (`Accept: application/json;as=PartialObjectMetadataList;
///   g=meta.k8s.io;v=v1`, and `as=PartialObjectMetadata` for watches and GETs): every object
///   becomes `{kind: PartialObjectMetadata, apiVersion: meta.k8s.io/v1, metadata}`; a list asked
///   for as the singular without a plain `application/json` fallback is a 406;
/// - the bytes of every answer counted per collection (`servedBytes`);
/// - test controls: drop every open watch connection abruptly, drop a watch after N events.
public final class FakeAPIServer: @unchecked Sendable {
    struct Event {
        var rv: Int
        var type: String
        var object: JSONValue
    }
    struct Collection {
        var kind: String
        var objects: [String: JSONValue] = [:]  // key "ns/name" -> object (no kind/apiVersion)
        var events: [Event] = []
        /// The keys of `objects` in list order; nil after a key was added or removed.
        var sortedKeys: [String]?
        /// Each object as a list item is written (and its `PartialObjectMetadata`), kept until it
        /// changes: a list page is then these bytes joined, not the objects encoded again.
        var encoded: [String: [UInt8]] = [:]
        var encodedPartial: [String: [UInt8]] = [:]
    }
    struct Watcher {
        var id: Int
        var channel: any Channel
        var collection: String
        var namespace: String?
        var selector: String?
        var bookmarks: Bool
        /// Event objects are sent as `PartialObjectMetadata`.
        var metadataOnly = false
        var sent = 0
        var dropAfter: Int?
    }
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: [String: String]
        public var authorization: String?
        public var contentType: String?
        public var accept: String? = nil
        public var body: Data
    }

    struct State {
        var rv = 1000
        var compactedThrough = 0
        var collections: [String: Collection] = [:]  // key: collection path without namespace part
        var watchers: [Int: Watcher] = [:]
        var nextWatcher = 1
        var requests: [Request] = []
        var requiredToken: String?
        var forced: [(status: Int, body: JSONValue)] = []
        var dropWatchAfterEvents: Int?
        var expiredContinueTokens = false
        var blockWatches = false
        /// Gone: nothing is answered, and open connections are left silent (see `goAway()`).
        var gone = false
        var silenced: [any Channel] = []
        /// Collections whose every request is answered with this status (see `forbid`).
        var refused: [String: (status: Int, body: JSONValue)] = [:]
        /// Bytes of the answers per collection, lists and watch events alike.
        var servedBytes: [String: Int] = [:]
    }
    let state = Mutex(State())
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var channel: (any Channel)?
    var tlsContext: NIOSSLContext?
    /// Answers the requests it takes (a benchmark's own controls, say) before the API does; it
    /// runs on the server's event loop, outside its lock, so it may call the test controls. Set
    /// it before the first request.
    public var control: (@Sendable (Request) -> (status: Int, body: [UInt8])?)?
    public let certificates: GeneratedCertificates
    public private(set) var port = 0
    public var url: URL { URL(string: "https://127.0.0.1:\(port)")! }

    init(certificates: GeneratedCertificates) {
        self.certificates = certificates
    }

    public static func start(port: Int = 0) async throws -> FakeAPIServer {
        let certs = try CertGenerator.generate(dnsNames: ["localhost", "kubernetes.default.svc"], ipAddresses: ["127.0.0.1"])
        let server = FakeAPIServer(certificates: certs)
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certs.certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(certs.keyPEM.utf8), format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        server.tlsContext = try NIOSSLContext(configuration: tls)
        try await server.listen(port: port)
        return server
    }

    private func listen(port: Int) async throws {
        let context = tlsContext!
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(server: self))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        self.port = channel?.localAddress?.port ?? 0
    }

    /// The server goes away the way a partitioned or frozen API server does: new connections are
    /// refused, requests on open connections are never answered, and open watches fall silent
    /// without being closed (no FIN reaches the client).
    public func goAway() async {
        state.withLock { s in
            s.gone = true
            s.silenced.append(contentsOf: s.watchers.values.map(\.channel))
            s.watchers = [:]
        }
        try? await channel?.close()
    }

    /// The server is back on the same port, with the same objects; the connections it left
    /// silent are reset.
    public func comeBack() async throws {
        let silenced = state.withLock { s in
            s.gone = false
            defer { s.silenced = [] }
            return s.silenced
        }
        for c in silenced { c.close(promise: nil) }
        try await listen(port: port)
    }

    public func stop() async {
        for c in state.withLock({ $0.silenced }) { c.close(promise: nil) }
        try? await channel?.close()
        try? await group.shutdownGracefully()
    }

    /// A kubeconfig-equivalent configuration trusting this server's CA.
    public func kubeConfig(token: String? = "test-token") -> KubeConfig {
        KubeConfig(
            server: url, credentials: token.map { .token($0) } ?? .none,
            caPEM: Array(certificates.caCertificatePEM.utf8), source: "fake api server")
    }

    // MARK: Test controls

    /// Creates or replaces an object, recording ADDED/MODIFIED and pushing it to live watches.
    /// Returns its new resourceVersion.
    @discardableResult
    public func apply(_ collection: String, kind: String, _ object: JSONValue) -> Int {
        record(collection, kind: kind, object, deleting: false)
    }

    @discardableResult
    public func delete(_ collection: String, kind: String, namespace: String?, name: String) -> Int {
        var meta: JSONObject = ["name": .string(name)]
        if let namespace { meta["namespace"] = .string(namespace) }
        let obj: JSONValue = ["metadata": .object(meta)]
        return record(collection, kind: kind, obj, deleting: true)
    }

    private func record(_ collection: String, kind: String, _ object: JSONValue, deleting: Bool) -> Int {
        state.withLock { s in Self.record(&s, collection, kind: kind, object, deleting: deleting).rv }
    }

    /// `record` with the lock held: the change, its event, and the object as stored.
    static func record(_ s: inout State, _ collection: String, kind: String, _ object: JSONValue, deleting: Bool) -> (
        rv: Int, object: JSONValue
    ) {
        do {
            s.rv += 1
            let rv = s.rv
            var obj = object
            var meta = obj["metadata"]?.objectValue ?? [:]
            meta["resourceVersion"] = .string(String(rv))
            if meta["uid"] == nil { meta["uid"] = .string("uid-\(meta["name"]?.stringValue ?? "")") }
            obj["metadata"] = .object(meta)
            let key = "\(meta["namespace"]?.stringValue ?? "")/\(meta["name"]?.stringValue ?? "")"
            if s.collections[collection] == nil { s.collections[collection] = Collection(kind: kind) }
            // Changed in place (`s.collections[collection]!.…`): a copy of the collection would
            // copy its every object on the first change, and seeding 30,000 objects would be quadratic.
            let type: String
            var previous: JSONValue?
            if deleting {
                // Deleting what does not exist is a 404 on a real server: no event.
                guard let existing = s.collections[collection]!.objects.removeValue(forKey: key) else {
                    s.rv -= 1
                    return (s.rv, obj)
                }
                var gone = existing
                gone["metadata"]?["resourceVersion"] = .string(String(rv))
                obj = gone
                type = "DELETED"
                s.collections[collection]!.sortedKeys = nil
            } else {
                let old = s.collections[collection]!.objects.updateValue(obj, forKey: key)
                previous = old
                type = old == nil ? "ADDED" : "MODIFIED"
                if old == nil { s.collections[collection]!.sortedKeys = nil }
            }
            s.collections[collection]!.encoded[key] = nil
            s.collections[collection]!.encodedPartial[key] = nil
            s.collections[collection]!.events.append(Event(rv: rv, type: type, object: obj))
            let collectionKind = s.collections[collection]!.kind
            for (id, w) in s.watchers where w.collection == collection {
                if let ns = w.namespace, ns != meta["namespace"]?.stringValue { continue }
                // As the watch cache filters: an object that leaves the selector is DELETED for
                // that watch, one that enters it ADDED.
                var seen = type
                let now = Self.matches(w.selector, labels: obj["metadata"]?["labels"])
                if type == "MODIFIED" {
                    let before = Self.matches(w.selector, labels: previous?["metadata"]?["labels"])
                    if before && !now { seen = "DELETED" } else if !before && now { seen = "ADDED" } else if !now { continue }
                } else if !now {
                    continue
                }
                Self.send(&s, id: id, type: seen, object: w.metadataOnly ? Self.partial(obj) : Self.withKind(obj, collectionKind))
            }
            return (rv, obj)
        }
    }

    static func withKind(_ o: JSONValue, _ kind: String) -> JSONValue {
        var o = o
        o["kind"] = .string(kind)
        return o
    }

    /// Sends a BOOKMARK at the current resourceVersion to every watch that asked for bookmarks.
    public func bookmark() {
        state.withLock { s in
            for (id, w) in s.watchers where w.bookmarks {
                let kind = s.collections[w.collection]?.kind ?? "Unknown"
                let obj: JSONValue = [
                    "kind": .string(kind), "apiVersion": "v1",
                    "metadata": ["resourceVersion": .string(String(s.rv)), "creationTimestamp": nil],
                ]
                Self.writeLine(s.watchers[id]!.channel, ["type": "BOOKMARK", "object": obj])
            }
        }
    }

    /// Sends a bookmark to every open watch that asked for them, every `interval`, as
    /// kube-apiserver does about once a minute (none while the server is gone).
    public func sendBookmarks(every interval: Duration) {
        let ns = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
        group.next().scheduleRepeatedTask(initialDelay: .nanoseconds(ns), delay: .nanoseconds(ns)) { [weak self] _ in
            guard let self, !self.state.withLock({ $0.gone }) else { return }
            self.bookmark()
        }
    }

    /// Every request for `collection` is refused the way kube-apiserver refuses a service
    /// account whose RBAC lacks the verb (until `allow`): 403 with the `Status` its authorizer
    /// writes, e.g. `daemonsets.apps is forbidden: User "system:serviceaccount:locus-system:locus"
    /// cannot list resource "daemonsets" in API group "apps" at the cluster scope`.
    public func forbid(_ collection: String, user: String = "system:serviceaccount:locus-system:locus", verb: String = "list") {
        let parts = collection.split(separator: "/").map(String.init)
        let resource = parts.last ?? ""
        let group = parts.first == "apis" && parts.count >= 3 ? parts[1] : ""
        let qualified = group.isEmpty ? resource : "\(resource).\(group)"
        var details: JSONObject = ["kind": .string(resource)]
        if !group.isEmpty { details["group"] = .string(group) }
        var body = Self.status(
            code: 403, reason: "Forbidden",
            message: "\(qualified) is forbidden: User \"\(user)\" cannot \(verb) resource \"\(resource)\" in API group \"\(group)\" "
                + "at the cluster scope")
        body["details"] = .object(details)
        state.withLock { $0.refused[collection] = (403, body) }
    }

    /// `collection` is served again.
    public func allow(_ collection: String) { _ = state.withLock { $0.refused.removeValue(forKey: collection) } }

    /// The bytes answered for each collection so far (lists, GETs and watch events).
    public var servedBytes: [String: Int] { state.withLock { $0.servedBytes } }

    /// Forgets history up to now: a watch from an older resourceVersion gets 410.
    public func compact() { state.withLock { $0.compactedThrough = $0.rv } }

    /// Closes every open watch connection without ending the chunked stream.
    public func dropWatches() {
        let channels = state.withLock { s in
            let cs = s.watchers.values.map(\.channel)
            s.watchers = [:]
            return cs
        }
        for c in channels { c.close(promise: nil) }
    }

    /// Ends every open watch cleanly (as when its timeoutSeconds elapses): the chunked stream ends.
    public func endWatches() {
        let channels = state.withLock { s in
            let cs = s.watchers.values.map(\.channel)
            s.watchers = [:]
            return cs
        }
        for c in channels { c.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil) }
    }

    public var openWatches: Int { state.withLock { $0.watchers.count } }
    public var requests: [Request] { state.withLock { $0.requests } }
    public func setRequiredToken(_ token: String?) { state.withLock { $0.requiredToken = token } }
    /// The next requests are answered with these statuses, in order.
    public func force(status: Int, reason: String, message: String) {
        state.withLock { $0.forced.append((status, Self.status(code: status, reason: reason, message: message))) }
    }
    /// Every later watch connection is dropped after sending this many events.
    public func dropWatchesAfter(events: Int?) { state.withLock { $0.dropWatchAfterEvents = events } }
    public func expireContinueTokens(_ on: Bool) { state.withLock { $0.expiredContinueTokens = on } }
    /// While blocked, watch requests get a 500 (as when etcd loses its leader); lists still work.
    public func blockWatches(_ on: Bool) { state.withLock { $0.blockWatches = on } }
    /// Sends an ERROR event with this status to every open watch and ends those watches.
    public func sendErrorEvent(code: Int, reason: String, message: String) {
        let channels = state.withLock { s in
            let cs = s.watchers.values.map(\.channel)
            s.watchers = [:]
            return cs
        }
        for c in channels {
            Self.writeLine(c, ["type": "ERROR", "object": Self.status(code: code, reason: reason, message: message)])
            c.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
        }
    }
    /// Adds an empty collection, so that lists of it succeed.
    public func serve(_ collection: String, kind: String) {
        state.withLock { s in if s.collections[collection] == nil { s.collections[collection] = Collection(kind: kind) } }
    }
    /// The events recorded for a collection after `rv`, as (type, key, rv).
    public func events(_ collection: String, after rv: Int) -> [String] {
        state.withLock { s in
            (s.collections[collection]?.events ?? []).filter { $0.rv > rv }.map { e in
                "\(e.type) \(e.object["metadata"]?["name"]?.stringValue ?? "") \(e.rv)"
            }
        }
    }
    public var currentResourceVersion: Int { state.withLock { $0.rv } }

    public static func status(code: Int, reason: String, message: String) -> JSONValue {
        [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": .string(message),
            "reason": .string(reason), "code": .integer(Int64(code)),
        ]
    }

    // MARK: Protocol

    enum Reply {
        case json(HTTPResponseStatus, JSONValue, collection: String? = nil)
        /// A JSON answer already written.
        case bytes(HTTPResponseStatus, [UInt8], collection: String?)
        case watch(
            collection: String, namespace: String?, selector: String?, from: Int?, bookmarks: Bool, timeout: Int?, metadataOnly: Bool)
    }

    /// An object as a metadata-only answer carries it: `PartialObjectMetadata` with the whole
    /// `metadata` (managedFields included) and nothing else.
    static func partial(_ object: JSONValue) -> JSONValue {
        ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? [:]]
    }

    /// What the `Accept` header asks for: `list` (as=PartialObjectMetadataList), `single`
    /// (as=PartialObjectMetadata), and whether plain JSON is acceptable as well.
    static func accepts(_ header: String?) -> (list: Bool, single: Bool, plain: Bool) {
        guard let header else { return (false, false, true) }
        var result = (list: false, single: false, plain: false)
        for entry in header.split(separator: ",") {
            let params = entry.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard params.first == "application/json" || params.first == "*/*" else { continue }
            let asKind = params.first { $0.hasPrefix("as=") }.map { String($0.dropFirst(3)) }
            switch asKind {
            case nil: result.plain = true
            case "PartialObjectMetadataList": result.list = true
            case "PartialObjectMetadata": result.single = true
            default: break
            }
        }
        return result
    }

    /// Splits `/api/v1/namespaces/ns/pods` into ("/api/v1/pods", "ns", nil) and
    /// `/api/v1/namespaces/ns/pods/name` into (.., "name").
    public static func route(_ path: String) -> (collection: String, namespace: String?, name: String?)? {
        var parts = path.split(separator: "/").map(String.init)
        var prefix: [String]
        if parts.first == "api", parts.count >= 3 {
            prefix = Array(parts[0...1])
            parts.removeFirst(2)
        } else if parts.first == "apis", parts.count >= 4 {
            prefix = Array(parts[0...2])
            parts.removeFirst(3)
        } else {
            return nil
        }
        var ns: String? = nil
        if parts.count >= 3, parts[0] == "namespaces" {
            ns = parts[1]
            parts.removeFirst(2)
        }
        guard let resource = parts.first else { return nil }
        prefix.append(resource)
        return ("/" + prefix.joined(separator: "/"), ns, parts.count > 1 ? parts[1] : nil)
    }

    func handle(_ req: Request) -> Reply {
        state.withLock { s -> Reply in
            s.requests.append(req)
            if let token = s.requiredToken, req.authorization != "Bearer \(token)" {
                return .json(.unauthorized, Self.status(code: 401, reason: "Unauthorized", message: "Unauthorized"))
            }
            if !s.forced.isEmpty {
                let f = s.forced.removeFirst()
                return .json(HTTPResponseStatus(statusCode: f.status), f.body)
            }
            if req.path == "/version" {
                return .json(.ok, ["major": "1", "minor": "31", "gitVersion": "v1.31.2", "platform": "linux/amd64"])
            }
            if let (collectionPath, _, _) = Self.route(req.path), let refusal = s.refused[collectionPath] {
                return .json(HTTPResponseStatus(statusCode: refusal.status), refusal.body)
            }
            let accept = Self.accepts(req.accept)
            guard let (collectionPath, ns, name) = Self.route(req.path), s.collections[collectionPath] != nil else {
                return .json(
                    .notFound, Self.status(code: 404, reason: "NotFound", message: "the server could not find the requested resource"))
            }
            if ["POST", "PUT", "PATCH"].contains(req.method) {
                return Self.write(&s, req, collection: collectionPath, namespace: ns, name: name)
            }
            if let name {
                let c = s.collections[collectionPath]!
                let key = "\(ns ?? "")/\(name)"
                guard let obj = c.objects[key] else {
                    return .json(
                        .notFound,
                        Self.status(
                            code: 404, reason: "NotFound", message: "\(collectionPath.split(separator: "/").last!) \"\(name)\" not found"))
                }
                return .json(.ok, accept.single ? Self.partial(obj) : Self.withKind(obj, c.kind), collection: collectionPath)
            }
            if req.query["watch"] == "true" || req.query["watch"] == "1" {
                if s.blockWatches {
                    return .json(
                        .internalServerError, Self.status(code: 500, reason: "InternalError", message: "etcdserver: leader changed"))
                }
                let from = req.query["resourceVersion"].flatMap { Int($0) }
                return .watch(
                    collection: collectionPath, namespace: ns, selector: req.query["labelSelector"], from: from,
                    bookmarks: req.query["allowWatchBookmarks"] == "true",
                    timeout: req.query["timeoutSeconds"].flatMap { Int($0) }, metadataOnly: accept.single || accept.list)
            }
            if accept.single && !accept.list && !accept.plain {
                return .json(
                    .notAcceptable,
                    Self.status(
                        code: 406, reason: "NotAcceptable",
                        message:
                            "you requested PartialObjectMetadata, but the requested object is a list (*\(s.collections[collectionPath]!.kind)List)"
                    ))
            }
            return Self.list(
                &s, collectionPath, namespace: ns, selector: req.query["labelSelector"], limit: req.query["limit"].flatMap { Int($0) },
                continue: req.query["continue"], metadataOnly: accept.list)
        }
    }

    /// A LIST answer: the objects in key order, paged by `limit` and `continue`, each written
    /// once and kept (`Collection.encoded`), so that paging through a large collection costs what
    /// a watch cache's answer does, not a new encoding of every object on every page.
    private static func list(
        _ s: inout State, _ path: String, namespace ns: String?, selector: String?, limit: Int?, continue token: String?,
        metadataOnly: Bool
    ) -> Reply {
        // Only `s.collections[path]!.…` is touched, never a copy of the collection (see `record`).
        if s.collections[path]!.sortedKeys == nil { s.collections[path]!.sortedKeys = s.collections[path]!.objects.keys.sorted() }
        var keys = s.collections[path]!.sortedKeys!
        if let ns {
            let prefix = "\(ns)/"
            keys = keys.filter { $0.hasPrefix(prefix) }
        }
        if let selector, !selector.isEmpty {
            keys = keys.filter { matches(selector, labels: s.collections[path]!.objects[$0]?["metadata"]?["labels"]) }
        }
        var offset = 0
        var listRV = s.rv
        if let token {
            let parts = token.split(separator: ":").compactMap { Int($0) }
            if s.expiredContinueTokens || parts.count != 2 {
                return .json(
                    .gone,
                    status(
                        code: 410, reason: "Expired",
                        message:
                            "The provided continue parameter is too old to display a consistent list result. You can start a new "
                            + "list without the continue parameter."
                    ))
            }
            (listRV, offset) = (parts[0], min(parts[1], keys.count))
        }
        var meta: JSONObject = ["resourceVersion": .string(String(listRV))]
        var page = keys[offset...]
        if let limit, limit > 0, keys.count - offset > limit {
            meta["continue"] = .string("\(listRV):\(offset + limit)")
            meta["remainingItemCount"] = .integer(Int64(keys.count - offset - limit))
            page = keys[offset..<(offset + limit)]
        }
        let kind = s.collections[path]!.kind
        // The envelope written with no items, then the items' own bytes put between its brackets:
        // the same bytes as the whole list written at once (members are written in key order).
        let envelope: JSONValue =
            metadataOnly
            ? ["kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": .object(meta), "items": []]
            : ["kind": .string(kind + "List"), "apiVersion": "v1", "metadata": .object(meta), "items": []]
        let head = envelope.encodedBytes()
        let marker = Array(#""items":[]"#.utf8)
        guard let at = head.firstRange(of: marker) else { fatalError("a list envelope without items") }
        var out: [UInt8] = []
        out.append(contentsOf: head[..<(at.upperBound - 1)])
        var first = true
        for key in page {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: itemBytes(&s, path, key: key, metadataOnly: metadataOnly))
        }
        out.append(contentsOf: head[(at.upperBound - 1)...])
        return .bytes(.ok, out, collection: path)
    }

    /// The bytes of one object as a list item, written on first use and kept until it changes.
    private static func itemBytes(_ s: inout State, _ path: String, key: String, metadataOnly: Bool) -> [UInt8] {
        if metadataOnly {
            if let b = s.collections[path]!.encodedPartial[key] { return b }
            let b = partial(s.collections[path]!.objects[key]!).encodedBytes()
            s.collections[path]!.encodedPartial[key] = b
            return b
        }
        if let b = s.collections[path]!.encoded[key] { return b }
        let b = s.collections[path]!.objects[key]!.encodedBytes()
        s.collections[path]!.encoded[key] = b
        return b
    }

    /// Each collection's objects: how many, and their bytes as list items, whole and as metadata
    /// only (what a list of every object serves, envelopes aside). Call after `prepareListItems()`.
    public func listItemSizes() -> [String: (count: Int, bytes: Int, metadataBytes: Int)] {
        state.withLock { s in
            s.collections.mapValues { c in
                (c.objects.count, c.encoded.values.reduce(0) { $0 + $1.count }, c.encodedPartial.values.reduce(0) { $0 + $1.count })
            }
        }
    }

    /// Writes every object of every collection as a list item, both whole and as metadata, so
    /// that the first lists cost no more than later ones (a watch cache is warm before clients come).
    public func prepareListItems() {
        state.withLock { s in
            for path in s.collections.keys {
                for key in s.collections[path]!.objects.keys {
                    _ = Self.itemBytes(&s, path, key: key, metadataOnly: false)
                    _ = Self.itemBytes(&s, path, key: key, metadataOnly: true)
                }
            }
        }
    }

    /// Whether `labels` match a label selector as the API server reads one: comma-separated
    /// `key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key`, `!key`.
    public static func matches(_ selector: String?, labels: JSONValue?) -> Bool {
        guard let selector, !selector.isEmpty else { return true }
        var terms: [String] = []
        var current = ""
        var depth = 0
        for ch in selector {
            if ch == "(" { depth += 1 } else if ch == ")" { depth -= 1 }
            if ch == ",", depth == 0 {
                terms.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        terms.append(current)
        func label(_ k: String) -> String? { labels?[k.trimmingCharacters(in: .whitespaces)]?.stringValue }
        func set(_ s: Substring) -> Set<String> {
            Set(s.drop { $0 != "(" }.dropFirst().prefix { $0 != ")" }.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        return terms.allSatisfy { term in
            let t = term.trimmingCharacters(in: .whitespaces)
            if let r = t.range(of: " notin ") {
                return label(String(t[..<r.lowerBound])).map { !set(t[r.upperBound...]).contains($0) } ?? true
            }
            if let r = t.range(of: " in ") {
                return label(String(t[..<r.lowerBound])).map { set(t[r.upperBound...]).contains($0) } ?? false
            }
            if let r = t.range(of: "!=") { return label(String(t[..<r.lowerBound])) != String(t[r.upperBound...]) }
            if let r = t.range(of: "==") ?? t.range(of: "=") { return label(String(t[..<r.lowerBound])) == String(t[r.upperBound...]) }
            if t.hasPrefix("!") { return label(String(t.dropFirst())) == nil }
            return label(t) != nil
        }
    }

    /// Registers a watch on `channel`, replaying the events after `from`.
    func startWatch(
        channel: any Channel, collection: String, namespace: String?, selector: String?, from: Int?, bookmarks: Bool,
        metadataOnly: Bool = false
    ) -> Int {
        state.withLock { s in
            let id = s.nextWatcher
            s.nextWatcher += 1
            s.watchers[id] = Watcher(
                id: id, channel: channel, collection: collection, namespace: namespace, selector: selector, bookmarks: bookmarks,
                metadataOnly: metadataOnly, dropAfter: s.dropWatchAfterEvents)
            let c = s.collections[collection]!
            if let from, from < s.compactedThrough {
                Self.writeLine(
                    channel,
                    [
                        "type": "ERROR",
                        "object": Self.status(
                            code: 410, reason: "Expired", message: "too old resource version: \(from) (\(s.compactedThrough))"),
                    ])
                s.watchers[id] = nil
                channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
                return id
            }
            if let from {
                for e in c.events where e.rv > from {
                    if let ns = namespace, ns != e.object["metadata"]?["namespace"]?.stringValue { continue }
                    if !Self.matches(selector, labels: e.object["metadata"]?["labels"]) { continue }
                    Self.send(&s, id: id, type: e.type, object: metadataOnly ? Self.partial(e.object) : Self.withKind(e.object, c.kind))
                }
            } else {
                // resourceVersion unset: the current state as ADDED events ("Get State and Start at Most Recent").
                for (_, o) in c.objects.sorted(by: { $0.key < $1.key }) {
                    Self.send(&s, id: id, type: "ADDED", object: metadataOnly ? Self.partial(o) : Self.withKind(o, c.kind))
                }
            }
            return id
        }
    }

    func endWatch(id: Int) { _ = state.withLock { $0.watchers.removeValue(forKey: id) } }

    private static func send(_ s: inout State, id: Int, type: String, object: JSONValue) {
        guard var w = s.watchers[id] else { return }
        if let limit = w.dropAfter, w.sent >= limit {
            s.watchers[id] = nil
            w.channel.close(promise: nil)
            return
        }
        s.servedBytes[w.collection, default: 0] += writeLine(w.channel, ["type": .string(type), "object": object])
        w.sent += 1
        s.watchers[id] = w
    }

    @discardableResult
    private static func writeLine(_ channel: any Channel, _ event: JSONValue) -> Int {
        var data = try! event.encoded()
        data.append(UInt8(ascii: "\n"))
        let part = HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: data)))
        channel.writeAndFlush(part, promise: nil)
        return data.count
    }

    static func mergePatch(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let p) = patch else { return patch }
        var t = target.objectValue ?? [:]
        for (k, v) in p {
            if v.isNull { t[k] = nil } else { t[k] = mergePatch(t[k] ?? .null, v) }
        }
        return .object(t)
    }

    // MARK: NIO handler

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: FakeAPIServer
        var head: HTTPRequestHead?
        var body = ByteBuffer()
        var watchID: Int?

        init(server: FakeAPIServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body.clear()
            case .body(var b):
                body.writeBuffer(&b)
            case .end:
                guard let head else { return }
                if server.state.withLock({ $0.gone }) {
                    server.state.withLock { $0.silenced.append(context.channel) }
                    return
                }
                let comps = URLComponents(string: head.uri)
                var query: [String: String] = [:]
                for item in comps?.queryItems ?? [] { query[item.name] = item.value ?? "" }
                let req = Request(
                    method: head.method.rawValue, path: comps?.path ?? head.uri, query: query,
                    authorization: head.headers.first(name: "Authorization"), contentType: head.headers.first(name: "Content-Type"),
                    accept: head.headers.first(name: "Accept"), body: Data(body.readableBytesView))
                if let control = server.control, let answer = control(req) {
                    respond(
                        context: context, HTTPResponseStatus(statusCode: answer.status), answer.body, collection: nil,
                        keepAlive: head.isKeepAlive)
                    return
                }
                respond(context: context, server.handle(req), keepAlive: head.isKeepAlive)
            }
        }

        func respond(context: ChannelHandlerContext, _ reply: Reply, keepAlive: Bool) {
            switch reply {
            case .json(let status, let value, let collection):
                respond(context: context, status, value.encodedBytes(), collection: collection, keepAlive: keepAlive)
            case .bytes(let status, let data, let collection):
                respond(context: context, status, data, collection: collection, keepAlive: keepAlive)
            case .watch(let collection, let ns, let selector, let from, let bookmarks, let timeout, let metadataOnly):
                let headers = HTTPHeaders([("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                let id = server.startWatch(
                    channel: context.channel, collection: collection, namespace: ns, selector: selector, from: from, bookmarks: bookmarks,
                    metadataOnly: metadataOnly)
                watchID = id
                if let timeout {
                    let channel = context.channel
                    let server = self.server
                    context.eventLoop.scheduleTask(in: .seconds(Int64(timeout))) {
                        server.endWatch(id: id)
                        channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
                    }
                }
            }
        }

        func respond(context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ data: [UInt8], collection: String?, keepAlive: Bool) {
            if let collection { server.state.withLock { $0.servedBytes[collection, default: 0] += data.count } }
            var headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(data.count))])
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: data)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            if let watchID { server.endWatch(id: watchID) }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
