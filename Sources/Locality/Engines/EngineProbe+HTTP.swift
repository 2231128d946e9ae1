import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

extension EngineProbe {
    /// Every endpoint's body, asked at once, in the endpoints' order.
    func scrape(_ endpoints: [WorkerEndpoint]) async -> [(WorkerEndpoint, Result<String, EngineError>)] {
        let answers = await withTaskGroup(of: (Int, Result<String, EngineError>).self) { group in
            for (i, e) in endpoints.enumerated() {
                group.addTask { (i, await self.fetch(e.url)) }
            }
            return await group.reduce(into: [Int: Result<String, EngineError>]()) { $0[$1.0] = $1.1 }
        }
        return endpoints.indices.map { (endpoints[$0], answers[$0]!) }
    }

    /// The body of `url`, or why not: bounded by `timeout`, at most 16 MiB, status 200 only.
    func fetch(_ url: String) async -> Result<String, EngineError> {
        do {
            let response = try await http.execute(HTTPClientRequest(url: url), timeout: .nanoseconds(Int64(timeout / .nanoseconds(1))))
            guard response.status == .ok else { return .failure(EngineError("answered HTTP \(response.status.code)")) }
            return .success(String(buffer: try await response.body.collect(upTo: 16 << 20)))
        } catch let e as HTTPClientError where e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout {
            return .failure(EngineError("no answer within \(timeout)"))
        } catch {
            return .failure(EngineError("\(error)"))
        }
    }
}
