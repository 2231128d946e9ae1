import Foundation
import JSON
import KubeClient

/// Cache-worker pods whose metrics endpoints do not answer, for measuring what polling them costs:
/// two JuiceFS workers per dataset, on the first two nodes that hold its cache; one points at a
/// port nothing listens on (the connection is refused at once), the other at `hangingPort`, where
/// a socket listens but never accepts (the kernel completes the handshake, the request is never
/// answered, and the poll waits out `engineTimeoutSeconds`).
enum UnansweringWorkers {
    static func pods(_ shape: ProductionShape, hangingPort: Int, refusedPort: Int) -> [JSONValue] {
        var out: [JSONValue] = []
        for d in 0..<shape.datasets {
            let ns = shape.datasetNamespace(d)
            let name = ProductionShape.datasetName(d)
            let nodes = (0..<shape.nodes).lazy.filter { shape.cachedDatasets(onNode: $0).contains(d) }.prefix(2)
            for (i, node) in nodes.enumerated() {
                let port = i == 0 ? refusedPort : hangingPort
                out.append([
                    "metadata": [
                        "name": .string("\(name)-worker-\(i)"), "namespace": .string(ns), "uid": .string("uid-\(ns)-\(name)-worker-\(i)"),
                        "labels": ["app": "juicefs", "role": "juicefs-worker", "release": .string(name), "fluid.io/managed-by": "fluid"],
                    ],
                    "spec": [
                        "nodeName": .string(ProductionShape.nodeName(node)), "hostNetwork": true,
                        "containers": [
                            [
                                "name": "juicefs-worker", "image": "juicedata/juicefs-fuse:ce-v1.2.1",
                                "ports": [["name": "metrics", "containerPort": .integer(Int64(port)), "protocol": "TCP"]],
                            ]
                        ],
                    ],
                    "status": ["phase": "Running", "podIP": "127.0.0.1", "hostIP": "127.0.0.1"],
                ])
            }
        }
        return out
    }

    /// A socket on 127.0.0.1 that listens and never accepts; returns its port (kept open for the
    /// life of the process).
    static func hangingListener() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 4096) == 0 else { throw BenchError("bind/listen failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A port on 127.0.0.1 nothing listens on: one the kernel handed out and that was closed again.
    static func refusedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        close(fd)
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
