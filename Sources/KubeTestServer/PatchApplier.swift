import Foundation
public import JSON

/// An RFC 6902 applier (add, remove, replace, test) written apart from Locus's own, to apply a
/// patch as the API server would: the in-process API server's JSON patches, and the fuzz checks'
/// reading of Locus's own patches.
public enum PatchApplier {
    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public static func apply(_ patch: JSONValue, to document: JSONValue) throws -> JSONValue {
        var doc = document
        for op in patch.arrayValue ?? [] {
            guard let name = op["op"]?.stringValue, let path = op["path"]?.stringValue else {
                throw Failure(description: "malformed \(op.jsonString)")
            }
            var tokens: [String] = []
            if !path.isEmpty {
                guard path.hasPrefix("/") else { throw Failure(description: "path \(path) does not start with /") }
                tokens = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map { token in
                    token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                }
            }
            if name == "test" {
                // RFC 6902 §4.6: the value at the path must equal the given one.
                guard try value(at: tokens[...], in: doc, path: path) == op["value"] else {
                    throw Failure(description: "testing value \(path) failed: test failed")
                }
                continue
            }
            try apply(name, tokens[...], op["value"], path: path, to: &doc)
        }
        return doc
    }

    static func apply(_ op: String, _ tokens: ArraySlice<String>, _ value: JSONValue?, path: String, to doc: inout JSONValue) throws {
        guard let token = tokens.first else {
            guard op != "remove", let value else { throw Failure(description: "\(op) of the whole document") }
            doc = value
            return
        }
        let last = tokens.count == 1
        switch doc {
        case .object(var o):
            if last {
                switch op {
                case "add": o[token] = value
                case "replace":
                    guard o[token] != nil else { throw Failure(description: "replace \(path): no member \(token)") }
                    o[token] = value
                case "remove":
                    guard o.removeValue(forKey: token) != nil else { throw Failure(description: "remove \(path): no member \(token)") }
                default: throw Failure(description: "op \(op)")
                }
            } else {
                guard var child = o[token] else { throw Failure(description: "\(path): no member \(token)") }
                try apply(op, tokens.dropFirst(), value, path: path, to: &child)
                o[token] = child
            }
            doc = .object(o)
        case .array(var a):
            let index: Int
            if token == "-", op == "add", last {
                index = a.count
            } else {
                guard let i = Int(token), i >= 0, String(i) == token else {
                    throw Failure(description: "\(path): \(token) is not an index")
                }
                index = i
            }
            if last {
                switch op {
                case "add":
                    guard index <= a.count, let value else { throw Failure(description: "add \(path): index \(index) of \(a.count)") }
                    a.insert(value, at: index)
                case "replace":
                    guard index < a.count, let value else { throw Failure(description: "replace \(path): index \(index) of \(a.count)") }
                    a[index] = value
                case "remove":
                    guard index < a.count else { throw Failure(description: "remove \(path): index \(index) of \(a.count)") }
                    a.remove(at: index)
                default: throw Failure(description: "op \(op)")
                }
            } else {
                guard index < a.count else { throw Failure(description: "\(path): index \(index) of \(a.count)") }
                try apply(op, tokens.dropFirst(), value, path: path, to: &a[index])
            }
            doc = .array(a)
        default:
            throw Failure(description: "\(path): \(token) inside a scalar")
        }
    }

    static func value(at tokens: ArraySlice<String>, in doc: JSONValue, path: String) throws -> JSONValue {
        guard let token = tokens.first else { return doc }
        let child: JSONValue?
        switch doc {
        case .object(let o): child = o[token]
        case .array(let a): child = Int(token).flatMap { $0 >= 0 && $0 < a.count ? a[$0] : nil }
        default: child = nil
        }
        guard let child else { throw Failure(description: "\(path): no member \(token)") }
        return try value(at: tokens.dropFirst(), in: child, path: path)
    }
}
