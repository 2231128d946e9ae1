import AsyncHTTPClient
import Foundation
import NIOCore

/// JuiceFS: a FUSE engine (its sidecar comes from the runtime's `spec.fuse`, as for every Fluid
/// FUSE runtime) that also says where its bytes are. Each JuiceFS client (a Fluid JuiceFS worker,
/// or any `juicefs mount --metrics ADDR`) serves Prometheus text with
/// `juicefs_blockcache_bytes{vol_name=…}`, the bytes of its local block cache.
///
/// Where the workers are: the runtime's annotation `locus.dev/metrics-endpoints`
/// (`node-a=http://10.0.0.5:9567/metrics,node-b=http://10.0.0.6:9567/metrics`). The volume: the
/// runtime's `locus.dev/juicefs-volume`, else the dataset's first mount name. The tier: the
/// runtime's first tieredstore level (SSD when it names none).
public struct JuiceFSEngine: EnginePlugin {
    public static let endpointsAnnotation = "locus.dev/metrics-endpoints"
    public static let volumeAnnotation = "locus.dev/juicefs-volume"

    public var kind: FluidRuntimeKind { .juicefs }
    public init() {}

    public func access(dataset: Dataset, runtime: FluidRuntime, volume: PersistentVolume?, catalog: any DatasetCatalog) throws -> DataAccess {
        try FuseEngine(kind: .juicefs).access(dataset: dataset, runtime: runtime, volume: volume, catalog: catalog)
    }

    public func observe(dataset: Dataset, runtime: FluidRuntime, cache: ClusterCache, probe: EngineProbe) async -> EngineReport? {
        let endpoints = Self.endpoints(of: runtime)
        guard !endpoints.isEmpty else { return nil }
        let volume = runtime.metadata.annotations?[Self.volumeAnnotation] ?? dataset.spec?.mounts?.first?.name ?? dataset.metadata.name ?? ""
        let tier = runtime.spec?.tieredstore?.levels?.first.flatMap { Tier(mediumType: $0.mediumtype ?? "") } ?? .ssd
        var report = EngineReport(source: .juicefs)
        let answers = await withTaskGroup(of: (String, String, Result<String, EngineError>).self) { group in
            for (node, url) in endpoints {
                group.addTask { (node, url, await Self.fetch(url, client: probe.http, timeout: probe.timeout)) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for (node, url, answer) in answers.sorted(by: { $0.0 < $1.0 }) {
            switch answer {
            case .failure(let e):
                report.problems.append("JuiceFS worker on \(node) (\(url)): \(e.description)")
            case .success(let text):
                guard let bytes = Self.blockCacheBytes(metrics: text, volume: volume) else {
                    report.problems.append("JuiceFS worker on \(node) (\(url)): no juicefs_blockcache_bytes series for volume \(volume)")
                    continue
                }
                var b = TierBytes()
                b[tier] = bytes
                report.nodes[node] = Observation(bytes: b, confirmedAt: probe.now(), source: .juicefs)
            }
        }
        return report
    }

    /// Sum of `juicefs_blockcache_bytes` over the series of `volume` (one per mount point); nil when
    /// the text has no such series (not JuiceFS, or another volume).
    public static func blockCacheBytes(metrics text: String, volume: String) -> Int64? {
        var total: Double?
        for line in text.split(separator: "\n") where line.hasPrefix("juicefs_blockcache_bytes{") {
            guard let close = line.lastIndex(of: "}") else { continue }
            let labels = line[line.index(line.startIndex, offsetBy: "juicefs_blockcache_bytes{".count)..<close]
            guard labelValue(labels, "vol_name") == volume else { continue }
            let value = line[line.index(after: close)...].split(separator: " ").first.flatMap { Double($0) }
            guard let value, value.isFinite, value >= 0 else { continue }
            total = (total ?? 0) + value
        }
        return total.map { Int64($0.rounded()) }
    }

    /// The value of `name="…"` in a Prometheus label set (escapes `\"`, `\\`, `\n` honoured).
    static func labelValue(_ labels: Substring, _ name: String) -> String? {
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

    /// `node=url` pairs of the runtime's annotation; malformed entries are dropped.
    public static func endpoints(of runtime: FluidRuntime) -> [(node: String, url: String)] {
        (runtime.metadata.annotations?[endpointsAnnotation] ?? "").split(separator: ",").compactMap { entry in
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix("http") else { return nil }
            return (parts[0], parts[1])
        }
    }

    /// The body of `url`, or why not: bounded by `timeout`, at most 16 MiB, status 200 only.
    static func fetch(_ url: String, client: HTTPClient, timeout: Duration) async -> Result<String, EngineError> {
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .nanoseconds(Int64(timeout / .nanoseconds(1))))
            guard response.status == .ok else { return .failure(EngineError("answered HTTP \(response.status.code)")) }
            return .success(String(buffer: try await response.body.collect(upTo: 16 << 20)))
        } catch let e as HTTPClientError where e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout {
            return .failure(EngineError("no answer within \(timeout)"))
        } catch {
            return .failure(EngineError("\(error)"))
        }
    }
}
