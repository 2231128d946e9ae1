import Foundation
public import JSON
import NIOCore
import NIOPosix

/// A client of vineyardd's RPC port. The wire: each message is an 8-byte little-endian length
/// followed by that many bytes of JSON; a request's `type` names the command, an error reply
/// carries `code` and `message`. Locus uses only read commands: `register_request`,
/// `instance_status_request`, `cluster_meta`, `list_name_request`, `get_data_request`.
public enum VineyardRPC {
    /// Replies larger than this are refused (a garbage length prefix must not allocate gigabytes).
    public static let maxReplyBytes = 64 << 20

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// One instance as the cluster metadata lists it.
    public struct Instance: Sendable, Equatable {
        public var id: UInt64
        public var nodename: String
        public var rpcEndpoint: String?
        public var ipcSocket: String?
    }

    public struct Status: Sendable, Equatable {
        public var instanceID: UInt64
        public var memoryUsage: Int64
        public var memoryLimit: Int64
    }

    /// An open, registered connection.
    public struct Session {
        var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

        /// Sends `request` and returns the reply's bytes; an error reply throws its message.
        mutating func call(_ request: [String: Any]) async throws -> Data {
            let body = try JSONSerialization.data(withJSONObject: request)
            var buffer = ByteBufferAllocator().buffer(capacity: 8 + body.count)
            buffer.writeInteger(UInt64(body.count), endianness: .little)
            buffer.writeBytes(body)
            try await outbound.write(buffer)
            guard var reply = try await inbound.next() else { throw Failure("connection closed before the reply") }
            let data = Data(reply.readBytes(length: reply.readableBytes) ?? [])
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw Failure("the reply is not a JSON object")
            }
            if object["type"] == nil, let message = object["message"] as? String {
                throw Failure("vineyardd refused \(request["type"] ?? "?"): \(message)")
            }
            guard let type = object["type"] as? String else { throw Failure("the reply names no type") }
            let expected = Self.replyType[request["type"] as? String ?? ""] ?? ""
            guard type == expected else { throw Failure("expected \(expected), got \(type)") }
            return data
        }

        static let replyType = [
            "register_request": "register_reply", "instance_status_request": "instance_status_reply",
            "cluster_meta": "cluster_meta", "list_name_request": "list_name_reply", "get_data_request": "get_data_reply",
        ]

        /// Opens the session; the reply must name the instance reached.
        mutating func register() async throws {
            struct Reply: Decodable { var instance_id: UInt64 }
            _ = try Self.decode(Reply.self, try await call(["type": "register_request", "version": "0.24.2", "store_type": "Normal"]))
        }

        public mutating func status() async throws -> Status {
            struct Reply: Decodable {
                struct Meta: Decodable {
                    var instance_id: UInt64
                    var memory_usage: Int64
                    var memory_limit: Int64
                }
                var meta: Meta
            }
            let m = try Self.decode(Reply.self, try await call(["type": "instance_status_request"])).meta
            return Status(instanceID: m.instance_id, memoryUsage: m.memory_usage, memoryLimit: m.memory_limit)
        }

        /// Every instance sharing this one's metadata service (`i<id>` → its node and endpoints).
        public mutating func clusterInstances() async throws -> [Instance] {
            struct Reply: Decodable {
                struct Meta: Decodable {
                    var nodename: String?
                    var hostname: String?
                    var rpc_endpoint: String?
                    var ipc_socket: String?
                }
                var meta: [String: Meta]
            }
            let meta = try Self.decode(Reply.self, try await call(["type": "cluster_meta"])).meta
            return meta.compactMap { key, m in
                guard key.hasPrefix("i"), let id = UInt64(key.dropFirst()), let node = m.nodename ?? m.hostname else { return nil }
                return Instance(id: id, nodename: node, rpcEndpoint: m.rpc_endpoint, ipcSocket: m.ipc_socket)
            }.sorted { $0.id < $1.id }
        }

        /// Named objects matching the glob `pattern` → their object ids (exact 64-bit values).
        public mutating func names(matching pattern: String, limit: Int) async throws -> [String: UInt64] {
            struct Reply: Decodable { var names: [String: UInt64]? }
            let data = try await call(["type": "list_name_request", "pattern": pattern, "regex": false, "limit": limit])
            return try Self.decode(Reply.self, data).names ?? [:]
        }

        /// The metadata trees of `ids` (unknown ids are absent), as JSON.
        public mutating func metadata(_ ids: [UInt64]) async throws -> JSONObject {
            guard !ids.isEmpty else { return [:] }
            let data = try await call([
                "type": "get_data_request", "id": ids.map { NSNumber(value: $0) }, "sync_remote": true, "wait": false,
            ])
            let reply = try JSONValue.parse(data)
            return reply["content"]?.objectValue ?? [:]
        }

        static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
            do { return try JSONDecoder().decode(type, from: data) } catch {
                throw Failure("unexpected reply: \(String(decoding: data.prefix(200), as: UTF8.self))")
            }
        }
    }

    /// Splits `host:port` (IPv6 as `[::1]:9600`); nil when malformed.
    public static func parse(endpoint: String) -> (host: String, port: Int)? {
        let e = endpoint.trimmingCharacters(in: .whitespaces)
        guard let colon = e.lastIndex(of: ":"), let port = Int(e[e.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(e[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// Connects to `endpoint`, registers, and runs `body`; the whole exchange, connect included,
    /// is bounded by `timeout` (the connection is closed when it runs out).
    public static func withSession<T: Sendable>(
        endpoint: String, timeout: Duration, _ body: @escaping @Sendable (inout Session) async throws -> T
    ) async throws -> T {
        guard let (host, port) = parse(endpoint: endpoint) else { throw Failure("\(endpoint) is not host:port") }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.nanoseconds(Int64(timeout / .nanoseconds(1))))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrame: maxReplyBytes)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await withThrowingTaskGroup(of: SessionOutcome<T>.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    var session = Session(inbound: inbound.makeAsyncIterator(), outbound: outbound)
                    try await session.register()
                    return .done(try await body(&session))
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return .timedOut
            }
            defer { group.cancelAll() }
            do {
                guard let first = try await group.next() else { throw Failure("no outcome") }
                switch first {
                case .done(let value):
                    return value
                case .timedOut:
                    channel.channel.close(promise: nil)
                    throw Failure("no answer within \(timeout)")
                }
            } catch let e as ChannelError where e == .ioOnClosedChannel || e == .eof || e == .outputClosed {
                throw Failure("closed the connection without a reply")
            } catch {
                channel.channel.close(promise: nil)
                throw error
            }
        }
    }

    enum SessionOutcome<T: Sendable>: Sendable { case done(T), timedOut }

    /// Splits the byte stream into replies: 8-byte little-endian length, then the body.
    struct FrameDecoder: ByteToMessageDecoder {
        typealias InboundOut = ByteBuffer
        let maxFrame: Int

        mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
            guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt64.self) else { return .needMoreData }
            guard length <= UInt64(maxFrame) else {
                throw Failure("a reply announced \(length) bytes (limit \(maxFrame)): not vineyardd's protocol")
            }
            guard buffer.readableBytes >= 8 + Int(length) else { return .needMoreData }
            buffer.moveReaderIndex(forwardBy: 8)
            context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(length))!))
            return .continue
        }
    }

    /// Bytes of each object tree, per instance: a local object counts its `nbytes` on its
    /// `instance_id`; a global object (`global: true`) counts its members, each where it lives.
    /// Each object id counts once, however many names or parents reach it.
    public static func bytesPerInstance(_ trees: [JSONValue]) -> [UInt64: Int64] {
        var seen = Set<String>()
        var out: [UInt64: Int64] = [:]
        func walk(_ meta: JSONValue, depth: Int) {
            guard depth < 64, let object = meta.objectValue else { return }
            if let id = object["id"]?.stringValue, !seen.insert(id).inserted { return }
            if object["global"]?.boolValue == true {
                for (_, member) in object where member.objectValue?["typename"] != nil { walk(member, depth: depth + 1) }
                return
            }
            guard let instance = object["instance_id"]?.int64Value, instance >= 0,
                let bytes = object["nbytes"]?.int64Value, bytes >= 0
            else { return }
            out[UInt64(instance), default: 0] += bytes
        }
        for tree in trees { walk(tree, depth: 0) }
        return out
    }
}
