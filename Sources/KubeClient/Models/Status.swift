import Foundation
import JSON

/// `meta/v1 Status`, the body of every API error and of a watch ERROR event.
public struct Status: Codable, Sendable, Hashable, Error {
    public var kind: String?
    public var apiVersion: String?
    public var status: String?
    public var message: String?
    public var reason: String?
    public var code: Int?

    public init(status: String? = "Failure", message: String?, reason: String?, code: Int?) {
        self.kind = "Status"
        self.apiVersion = "v1"
        self.status = status
        self.message = message
        self.reason = reason
        self.code = code
    }
}

// MARK: - core/v1
