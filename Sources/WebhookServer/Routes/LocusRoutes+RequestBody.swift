import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import Synchronization

extension LocusRoutes {
    /// Reads a request body of at most `limit` (default `maxRequestBytes`). Larger bodies are refused
    /// with 413 before they are read whole when they announce their length, or as soon as the limit is passed.
    func readBody(_ request: inout Request, limit: Int? = nil) async throws -> ByteBuffer {
        let limit = limit ?? maxRequestBytes
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        if let declared, declared > limit {
            throw HTTPError(.contentTooLarge, message: "request body of \(declared) bytes is over the limit of \(limit) bytes")
        }
        // Collected into one buffer sized from Content-Length up front: a body of megabytes (a full
        // NodeList) arrives in many TLS records, and growing the buffer by doubling would copy it
        // again and again. A body that came in one piece is used as it is.
        var chunks = request.body.makeAsyncIterator()
        guard var body = try await chunks.next() else { return ByteBuffer() }
        while let chunk = try await chunks.next() {
            guard body.readableBytes + chunk.readableBytes <= limit else {
                throw HTTPError(.contentTooLarge, message: "request body is over the limit of \(limit) bytes")
            }
            if body.writableBytes < chunk.readableBytes {
                body.reserveCapacity(minimumWritableBytes: max(chunk.readableBytes, (declared ?? 0) - body.readableBytes))
            }
            body.writeImmutableBuffer(chunk)
        }
        guard body.readableBytes <= limit else {
            throw HTTPError(.contentTooLarge, message: "request body is over the limit of \(limit) bytes")
        }
        return body
    }

    /// Requests must say they carry JSON (with or without a charset); anything else is 415.
    static func requireJSON(_ request: Request) throws {
        guard let header = request.headers[.contentType], isJSON(header) else {
            throw HTTPError(
                .unsupportedMediaType,
                message: "content type must be application/json, got \(request.headers[.contentType] ?? "none")")
        }
    }

    /// `application/json`, in any case, optionally followed by parameters (`; charset=utf-8`).
    static func isJSON(_ contentType: String) -> Bool {
        var it = contentType.utf8.makeIterator()
        for e in "application/json".utf8 {
            guard let c = it.next() else { return false }
            let lower = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) ? c + 32 : c
            guard lower == e else { return false }
        }
        while let c = it.next() {
            if c == UInt8(ascii: ";") { return true }
            if c != UInt8(ascii: " ") && c != UInt8(ascii: "\t") { return false }
        }
        return true
    }
}
