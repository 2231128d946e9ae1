import Foundation
import Hummingbird
import HummingbirdCore
import KubeClient
import Synchronization

/// Records a count and latency per route and status code.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: LocusMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let route = Route(rawValue: request.uri.path)?.label ?? "other"
        do {
            let response = try await next(request, context)
            metrics.recordRequest(route: route, code: Int(response.status.code), duration: .now - start)
            return response
        } catch {
            let code = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.recordRequest(route: route, code: Int(code), duration: .now - start)
            throw error
        }
    }
}
