import Synchronization

/// One stored copy of each label key and value that many objects share. Thousands of nodes
/// carry the same keys and mostly the same values (zone, region, instance type, `"true"`);
/// decoded from JSON each is a string of its own, so the labels of 15,000 nodes would hold
/// hundreds of thousands of copies. The table holds at most `capacity` strings; past that,
/// strings are kept as they come.
final class LabelInterner: Sendable {
    static let shared = LabelInterner()

    private let table = Mutex<Set<String>>([])
    let capacity: Int

    init(capacity: Int = 8_192) { self.capacity = capacity }

    /// `labels` with each key and value replaced by the table's copy; a value equal to `name`
    /// (a node's `kubernetes.io/hostname`) becomes `name` itself rather than a table entry.
    func intern(_ labels: [String: String]?, name: String?) -> [String: String]? {
        guard let labels, !labels.isEmpty else { return labels }
        return table.withLock { table in
            func one(_ s: String) -> String {
                if let kept = table.firstIndex(of: s) { return table[kept] }
                if table.count < capacity { table.insert(s) }
                return s
            }
            var out: [String: String] = [:]
            out.reserveCapacity(labels.count)
            for (key, value) in labels {
                out[one(key)] = value == name ? name! : one(value)
            }
            return out
        }
    }
}
