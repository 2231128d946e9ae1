import Foundation

/// A failed API call, with the HTTP status and the API server's `Status` where there was one.
/// The description is one line a person can act on; it never contains credentials.
public enum KubeAPIError: Error, CustomStringConvertible, Sendable {
    case status(method: String, path: String, code: Int, status: Status?)
    case transport(method: String, path: String, reason: String)
    case decoding(path: String, reason: String)
    /// The answer's body is larger than the client reads (`limit` bytes).
    case tooLarge(method: String, path: String, limit: Int)
    case credentials(String)

    public var code: Int? {
        if case .status(_, _, let code, _) = self { return code }
        return nil
    }
    /// 410 Gone: the resourceVersion or continue token is too old; the caller must relist.
    public var isGone: Bool { code == 410 }
    public var isUnauthorized: Bool { code == 401 }
    public var isForbidden: Bool { code == 403 }
    public var isNotFound: Bool { code == 404 }
    /// 409: the object changed since it was read (or already exists, for a create).
    public var isConflict: Bool { code == 409 }
    /// 422: the request is invalid, or a JSON patch's `test` failed.
    public var isInvalid: Bool { code == 422 }

    /// What kind of failure this is, for counting and for telling one failure from another of
    /// the same outage: `HTTP 403`, `unreachable`, `undecodable`, `too large`, `credentials`.
    public var kind: String {
        switch self {
        case .status(_, _, let code, _): "HTTP \(code)"
        case .transport: "unreachable"
        case .decoding: "undecodable"
        case .tooLarge: "too large"
        case .credentials: "credentials"
        }
    }

    public var description: String {
        switch self {
        case .status(let method, let path, let code, let status):
            let reason = status?.reason.map { " \($0)" } ?? ""
            let message = status?.message.map { ": \($0)" } ?? ""
            var hint = ""
            if code == 401 { hint = " (the token or client certificate was rejected: expired or revoked?)" }
            if code == 403 { hint = " (check the ClusterRole bound to Locus's service account)" }
            return "\(method) \(path): HTTP \(code)\(reason)\(message)\(hint)"
        case .transport(let method, let path, let reason):
            return "\(method) \(path): API server unreachable: \(reason)"
        case .decoding(let path, let reason):
            return "\(path): unexpected response body: \(reason)"
        case .tooLarge(let method, let path, let limit):
            let size = limit >= 1 << 20 && limit % (1 << 20) == 0 ? "\(limit >> 20) MiB" : "\(limit) bytes"
            return "\(method) \(path): the answer is larger than the \(size) Locus reads"
        case .credentials(let reason):
            return "credentials: \(reason)"
        }
    }
}
