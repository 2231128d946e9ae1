import Foundation
import Hummingbird
import HummingbirdCore
import KubeClient
import Locality
import Logging
import Mutators
import NIOCore
import SchedulerExtender
import Synchronization

/// A JSON error body: `{"error": "..."}`.
struct ErrorBody: Encodable {
    var error: String
}

extension LocusRoutes {
    static func json(_ status: HTTPResponse.Status, _ message: String) -> Response {
        jsonBytes(status, errorBytes(message))
    }

    /// `{"error": message}`.
    static func errorBytes(_ message: String) -> [UInt8] {
        Array((try? JSONEncoder().encode(ErrorBody(error: message))) ?? Data("{}".utf8))
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func jsonBytes(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
