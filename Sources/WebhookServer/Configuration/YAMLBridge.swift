import JSON
import KubeClient
import Yams

/// YAML ↔ `JSONValue`, with YAML's own scalar typing (quoted `"true"` stays a string).
enum YAMLBridge {
    static func parse(_ text: String, source: String) throws -> JSONValue {
        let node: Yams.Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError("\(source): not valid YAML or JSON")
        }
        guard let node else { throw ConfigError("\(source): empty document") }
        return try value(node, source: source)
    }

    /// Every document of a multi-document YAML stream.
    static func parseAll(_ text: String, source: String) throws -> [JSONValue] {
        do {
            return try Yams.compose_all(yaml: text).map { try value($0, source: source) }
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError("\(source): not valid YAML")
        }
    }

    static func value(_ node: Yams.Node, source: String) throws -> JSONValue {
        switch node {
        case .scalar(let s):
            // The tag is resolved from the scalar and its style: a quoted "true" is a string.
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map { .bool($0) } ?? .string(s.string)
            case Tag.Name.int.rawValue: return node.int.map { .integer(Int64($0)) } ?? .string(s.string)
            case Tag.Name.float.rawValue:
                if let d = node.float, d.isFinite { return .number(d) }
                return .string(s.string)
            default: return .string(s.string)
            }
        case .sequence(let seq):
            return .array(try seq.map { try value($0, source: source) })
        case .mapping(let map):
            var members: [(String, JSONValue)] = []
            members.reserveCapacity(map.count)
            for (k, v) in map {
                guard case .scalar(let key) = k else { throw ConfigError("\(source): mapping keys must be plain strings") }
                members.append((key.string, try value(v, source: source)))
            }
            return .object(JSONObject(members))
        case .alias:
            throw ConfigError("\(source): YAML aliases are not supported")
        }
    }

    static func node(_ v: JSONValue) -> Yams.Node {
        switch v {
        case .null: return Yams.Node("null", Tag(.null))
        case .bool(let b): return Yams.Node(b ? "true" : "false", Tag(.bool))
        case .integer(let i): return Yams.Node(String(i), Tag(.int))
        case .number(let d): return Yams.Node("\(d)", Tag(.float))
        case .string(let s):
            // Quote strings a YAML reader would take for something else ("true", "1.0", "null", "").
            let plain = Yams.Node(s)
            let ambiguous = s.isEmpty || plain.tag.rawValue != Tag.Name.str.rawValue
            return Yams.Node(s, Tag(.str), ambiguous ? .doubleQuoted : .any)
        case .array(let a): return .sequence(Yams.Node.Sequence(a.map(node)))
        case .object(let o):
            let pairs: [(Yams.Node, Yams.Node)] = o.map { (Yams.Node($0.key, Tag(.str)), node($0.value)) }
            return .mapping(Yams.Node.Mapping(pairs))
        }
    }

    static func yaml(_ v: JSONValue) -> String {
        (try? Yams.serialize(node: node(v), width: -1, sortKeys: false)) ?? v.jsonString
    }
}
