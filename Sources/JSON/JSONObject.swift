/// The members of a JSON object, kept sorted by key with each key once.
///
/// Kubernetes objects are many small JSON objects (a container, a mount, a label map) read a few
/// keys at a time. A dictionary hashes every key it stores or looks up, and allocates a table per
/// object; profiles of the webhook showed hashing alone at a fifth of a review's time. A sorted
/// array of members needs no hashing, no table, is already in the order JSON is written in, and
/// compares two objects member by member.
///
/// It reads like a `[String: JSONValue]`: `o[key]` gets, sets and (with nil) removes a member,
/// iteration yields `(key:, value:)` pairs (in key order), and duplicate keys given at
/// construction keep the last value, as Go's encoding/json does.
public struct JSONObject: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSONValue)

    /// Sorted by key (String order, as the writer emits them), keys unique.
    @usableFromInline var members: [Element]

    @inlinable public init() { members = [] }

    @inlinable public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }

    /// Members in any order; a key given twice keeps its last value.
    @inlinable public init(_ pairs: some Sequence<(String, JSONValue)>) {
        var members: [Element] = []
        members.reserveCapacity(pairs.underestimatedCount)
        for (key, value) in pairs { members.append((key, value)) }
        self.init(members: members)
    }

    /// Members in any order (the array is taken over and sorted in place); a key given twice
    /// keeps its last value.
    @inlinable public init(members: consuming [Element]) {
        var m = members
        var sorted = true
        for i in m.indices.dropFirst() where !(m[i - 1].key < m[i].key) {
            sorted = false
            break
        }
        if !sorted { Self.sortKeepingLast(&m) }
        self.members = m
    }

    @inlinable public init(_ dictionary: [String: JSONValue]) {
        members = dictionary.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }

    @inlinable public init(uniqueKeysWithValues pairs: some Sequence<(String, JSONValue)>) { self.init(pairs) }

    /// Stable sort by key, then of each run of equal keys only the last (as given) stays.
    @usableFromInline static func sortKeepingLast(_ m: inout [Element]) {
        if m.count <= 16 {
            // Most objects are small: insertion sort in place (stable), members moved by swapping
            // their bytes (no reference counting on the way).
            m.withUnsafeMutableBufferPointer { b in
                for i in 1..<b.count {
                    var j = i
                    while j > 0, b[j].key < b[j - 1].key {
                        b.swapAt(j, j - 1)
                        j -= 1
                    }
                }
            }
        } else {
            let order = m.indices.sorted { i, j in
                let a = m[i].key
                let b = m[j].key
                return a < b || (a == b && i < j)
            }
            m = order.map { m[$0] }
        }
        // A later duplicate sits right after the earlier one: keep the last of each run.
        var write = 0
        for read in m.indices {
            if write > 0, m[write - 1].key == m[read].key {
                m[write - 1] = m[read]
            } else {
                m.swapAt(write, read)
                write += 1
            }
        }
        m.removeLast(m.count - write)
    }

    // MARK: Collection (members in key order)

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { members.count }
    @inlinable public subscript(position: Int) -> Element { members[position] }

    // MARK: Dictionary-like access

    /// Where `key` is, or where it would be inserted.
    @inlinable @inline(__always)
    func search(_ key: String) -> (found: Bool, index: Int) {
        // Most objects are small: a scan with `==` (a bit compare for short keys) beats halving.
        if members.count <= 8 {
            for i in members.indices {
                let k = members[i].key
                if k == key { return (true, i) }
                if key < k { return (false, i) }
            }
            return (false, members.count)
        }
        var low = 0
        var high = members.count
        while low < high {
            let mid = (low + high) / 2
            if members[mid].key < key { low = mid + 1 } else { high = mid }
        }
        return (low < members.count && members[low].key == key, low)
    }

    @inlinable public subscript(key: String) -> JSONValue? {
        get {
            // Reading needs no insertion point: small objects are scanned with `==` alone.
            if members.count <= 8 {
                for i in members.indices where members[i].key == key { return members[i].value }
                return nil
            }
            // (Not `found ? value : nil`: JSONValue is nil-literal expressible, so that nil is `.null`.)
            let (found, i) = search(key)
            guard found else { return nil }
            return members[i].value
        }
        set {
            let (found, i) = search(key)
            switch (found, newValue) {
            case (true, let value?): members[i].value = value
            case (true, nil): members.remove(at: i)
            case (false, let value?): members.insert((key, value), at: i)
            case (false, nil): break
            }
        }
    }

    /// Runs `body` on the object member `key` (an empty object when it is absent or not an
    /// object) and stores what it leaves. The member is taken out while `body` runs, so one that
    /// only this object holds is changed in place: reading it out, changing it and setting it back
    /// would copy it, since this object still holds it while it changes.
    @inlinable @discardableResult
    public mutating func modifyObject<R>(_ key: String, _ body: (inout JSONObject) throws -> R) rethrows -> R {
        let (found, i) = search(key)
        var inner = JSONObject()
        if found {
            if case .object(let o) = members[i].value { inner = o }
            members[i].value = .null
        } else {
            members.insert((key, .null), at: i)
        }
        defer { members[i].value = .object(inner) }
        return try body(&inner)
    }

    @inlinable @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        let (found, i) = search(key)
        guard found else { return nil }
        return members.remove(at: i).value
    }

    @inlinable public var keys: LazyMapCollection<[Element], String> { members.lazy.map(\.key) }
    @inlinable public var values: LazyMapCollection<[Element], JSONValue> { members.lazy.map(\.value) }

    @inlinable public func mapValues<T>(_ transform: (JSONValue) throws -> T) rethrows -> [String: T] {
        var out: [String: T] = [:]
        out.reserveCapacity(members.count)
        for (key, value) in members { out[key] = try transform(value) }
        return out
    }

    @inlinable public func compactMapValues<T>(_ transform: (JSONValue) throws -> T?) rethrows -> [String: T] {
        var out: [String: T] = [:]
        for (key, value) in members { if let t = try transform(value) { out[key] = t } }
        return out
    }

    // MARK: Hashable

    @inlinable public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.members.count == b.members.count else { return false }
        // Copies share storage (an untouched subtree of a mutated pod): equal without a walk.
        if a.members.withUnsafeBufferPointer({ x in b.members.withUnsafeBufferPointer { $0.baseAddress == x.baseAddress } }) {
            return true
        }
        for i in a.members.indices where a.members[i].key != b.members[i].key || a.members[i].value != b.members[i].value {
            return false
        }
        return true
    }

    @inlinable public func hash(into hasher: inout Hasher) {
        hasher.combine(members.count)
        for (key, value) in members {
            hasher.combine(key)
            hasher.combine(value)
        }
    }
}
