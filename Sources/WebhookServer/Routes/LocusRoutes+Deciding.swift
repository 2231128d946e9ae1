import Hummingbird
import HummingbirdCore
import NIOCore

/// The routes that decide (`/mutate`, `/filter`, `/prioritize`), defined once: their body limit,
/// their checks and their answer, for the router and for `AnswerOnEventLoop` alike.
extension LocusRoutes {
    static let deciding: [Route] = [.mutate, .filter, .prioritize]

    /// `route`, when `target` is one of the deciding routes, with or without a query
    /// (kube-apiserver adds `?timeout=10s`).
    static func decidingRoute(_ target: String) -> Route? {
        let path = target.utf8.firstIndex(of: UInt8(ascii: "?")).map { target[..<$0] } ?? Substring(target)
        return deciding.first { $0.rawValue == path }
    }

    /// The largest body `route` takes; over it the answer is 413. An AdmissionReview is bounded
    /// by the API server's own limit; kube-scheduler's full NodeLists can be several MB.
    func bodyLimit(_ route: Route) -> Int { route == .mutate ? maxRequestBytes : maxExtenderRequestBytes }

    /// The answer to a whole body of `route`: 200 with the decision, or 400 with why the body
    /// is not what the route takes. Synchronous and without I/O, so it can run on the
    /// connection's event loop.
    func answer(_ route: Route, body: ByteBuffer) -> (HTTPResponse.Status, [ByteBuffer]) {
        switch route {
        case .filter:
            return answerFilter(body)
        case .prioritize:
            let (status, buffer) = answerPrioritize(body)
            return (status, [buffer])
        default:
            let (status, bytes) = answerMutate(body)
            return (status, [ByteBuffer(bytes: bytes)])
        }
    }

    /// A deciding route as the router serves it: a JSON body (else 415) within the route's limit
    /// (else 413), answered by `answer`.
    func serve(_ route: Route, _ request: inout Request) async throws -> Response {
        try Self.requireJSON(request)
        let (status, buffers) = answer(route, body: try await readBody(&request, limit: bodyLimit(route)))
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(contentsOf: buffers))
    }
}
