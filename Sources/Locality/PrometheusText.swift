import AsyncHTTPClient
import Foundation
import NIOCore

/// The samples of a Prometheus text exposition (version 0.0.4), read as engines' workers serve it.
public enum PrometheusText {
    public struct Sample {
        public var name: Substring
        /// The text between the braces, empty without labels.
        public var labels: Substring
        public var value: Double
    }

    /// Every sample line with a finite value; comments, blank and malformed lines are skipped.
    public static func samples(_ text: String) -> [Sample] {
        text.split(separator: "\n").compactMap { line in
            guard let first = line.first, first != "#" else { return nil }
            let name: Substring
            let labels: Substring
            let rest: Substring
            if let open = line.firstIndex(of: "{") {
                guard let close = line.lastIndex(of: "}"), close > open else { return nil }
                name = line[..<open]
                labels = line[line.index(after: open)..<close]
                rest = line[line.index(after: close)...]
            } else {
                guard let space = line.firstIndex(of: " ") else { return nil }
                name = line[..<space]
                labels = ""
                rest = line[space...]
            }
            guard let value = rest.split(separator: " ").first.flatMap({ Double($0) }), value.isFinite else { return nil }
            return Sample(name: name, labels: labels, value: value)
        }
    }

    /// The value of `name="…"` in a label set (escapes `\"`, `\\`, `\n` honoured).
    public static func labelValue(_ labels: Substring, _ name: String) -> String? {
        var rest = labels[...]
        while let eq = rest.firstIndex(of: "=") {
            let key = rest[..<eq].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
            var i = rest.index(after: eq)
            guard i < rest.endIndex, rest[i] == "\"" else { return nil }
            i = rest.index(after: i)
            var value = ""
            while i < rest.endIndex, rest[i] != "\"" {
                if rest[i] == "\\", rest.index(after: i) < rest.endIndex {
                    i = rest.index(after: i)
                    value.append(rest[i] == "n" ? "\n" : rest[i])
                } else {
                    value.append(rest[i])
                }
                i = rest.index(after: i)
            }
            if key == name { return value }
            rest = i < rest.endIndex ? rest[rest.index(after: i)...] : ""
        }
        return nil
    }
}

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
