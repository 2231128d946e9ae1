import Foundation
import JSON
import KubeClient
import NIOHTTP1

/// Writes, as kube-apiserver answers them (`staging/src/k8s.io/apiserver/pkg/endpoints/handlers`):
/// - POST creates: `generateName` gets five random characters, a name already taken is a 409
///   `AlreadyExists`; uid, resourceVersion and creationTimestamp are the server's;
/// - PUT replaces: its `metadata.resourceVersion` must be the stored one (409 `Conflict`, "the
///   object has been modified"); a missing object is a 404;
/// - PATCH: `application/merge-patch+json` (a `metadata.resourceVersion` in it is a
///   precondition, as on the real server) and `application/json-patch+json` (a failed `test` or
///   a path that does not exist is a 422); any other type is a 415;
/// - a pod's `spec.schedulingGates` may only lose gates after creation (422 otherwise), as
///   the pod validation has it since scheduling readiness.
extension FakeAPIServer {
    static func write(_ s: inout State, _ req: Request, collection: String, namespace: String?, name: String?) -> Reply {
        let kind = s.collections[collection]!.kind
        let resource = String(collection.split(separator: "/").last ?? "")
        switch (req.method, name) {
        case ("POST", nil):
            guard var object = try? JSONValue.parse(req.body) else { return badRequest("the body of the request was not JSON") }
            var meta = object["metadata"]?.objectValue ?? [:]
            if meta["name"]?.stringValue?.isEmpty ?? true, let prefix = meta["generateName"]?.stringValue {
                meta["name"] = .string(prefix + randomSuffix())
            }
            guard let objectName = meta["name"]?.stringValue, !objectName.isEmpty else {
                return invalid(kind, "", "metadata.name: Required value: name or generateName is required")
            }
            if let namespace { meta["namespace"] = .string(namespace) }
            let key = "\(namespace ?? "")/\(objectName)"
            if s.collections[collection]!.objects[key] != nil {
                return .json(
                    .conflict, status(code: 409, reason: "AlreadyExists", message: "\(resource) \"\(objectName)\" already exists"))
            }
            meta["uid"] = .string(UUID().uuidString.lowercased())
            meta["creationTimestamp"] = .string(KubeTime.time(Date()))
            object["metadata"] = .object(meta)
            let stored = record(&s, collection, kind: kind, object, deleting: false).object
            return .json(.created, withKind(stored, kind))
        case ("PUT", let name?), ("PATCH", let name?):
            let key = "\(namespace ?? "")/\(name)"
            guard let current = s.collections[collection]!.objects[key] else {
                return .json(.notFound, status(code: 404, reason: "NotFound", message: "\(resource) \"\(name)\" not found"))
            }
            let updated: JSONValue
            switch changed(current, by: req, resource: resource, name: name) {
            case .success(let u): updated = u
            case .failure(let reply): return reply.reply
            }
            if kind == "Pod", let problem = gatesAdded(from: current, to: updated) { return invalid(kind, name, problem) }
            var object = updated
            // What the server owns stays the server's.
            for field in ["uid", "creationTimestamp", "name", "namespace"] { object["metadata"]?[field] = current["metadata"]?[field] }
            let stored = record(&s, collection, kind: kind, object, deleting: false).object
            return .json(.ok, withKind(stored, kind))
        default:
            return .json(
                .methodNotAllowed, status(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method"))
        }
    }

    struct Refusal: Error {
        let reply: Reply
    }

    /// The object after a PUT or PATCH, or the answer refusing it.
    static func changed(_ current: JSONValue, by req: Request, resource: String, name: String) -> Result<JSONValue, Refusal> {
        let currentRV = current["metadata"]?["resourceVersion"]?.stringValue
        let conflict = Refusal(
            reply: .json(
                .conflict,
                status(
                    code: 409, reason: "Conflict",
                    message:
                        "Operation cannot be fulfilled on \(resource) \"\(name)\": the object has been modified; please apply your "
                        + "changes to the latest version and try again")))
        guard let body = try? JSONValue.parse(req.body) else { return .failure(Refusal(reply: badRequest("the body was not JSON"))) }
        if req.method == "PUT" {
            guard body["metadata"]?["resourceVersion"]?.stringValue == currentRV else { return .failure(conflict) }
            return .success(body)
        }
        switch req.contentType {
        case "application/merge-patch+json":
            if let rv = body["metadata"]?["resourceVersion"]?.stringValue, rv != currentRV { return .failure(conflict) }
            return .success(mergePatch(current, body))
        case "application/json-patch+json":
            do {
                return .success(try PatchApplier.apply(body, to: current))
            } catch {
                return .failure(
                    Refusal(reply: .json(HTTPResponseStatus(statusCode: 422), status(code: 422, reason: "Invalid", message: "\(error)"))))
            }
        default:
            return .failure(
                Refusal(
                    reply: .json(
                        .unsupportedMediaType,
                        status(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format"))))
        }
    }

    /// Why an update of a pod is refused for adding a scheduling gate; nil when it adds none.
    static func gatesAdded(from old: JSONValue, to new: JSONValue) -> String? {
        let names = { (pod: JSONValue) in Set((pod["spec"]?["schedulingGates"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }) }
        let added = names(new).subtracting(names(old))
        guard !added.isEmpty else { return nil }
        return "spec.schedulingGates: Forbidden: only deletion is allowed, but found new scheduling gate '\(added.sorted()[0])'"
    }

    static func invalid(_ kind: String, _ name: String, _ message: String) -> Reply {
        .json(
            HTTPResponseStatus(statusCode: 422),
            status(code: 422, reason: "Invalid", message: "\(kind) \"\(name)\" is invalid: \(message)"))
    }

    static func badRequest(_ message: String) -> Reply {
        .json(.badRequest, status(code: 400, reason: "BadRequest", message: message))
    }

    /// Kubernetes' `names.SimpleNameGenerator`: five characters of `bcdfghjklmnpqrstvwxz2456789`.
    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }
}
