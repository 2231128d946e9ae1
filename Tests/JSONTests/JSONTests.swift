import Foundation
@testable import JSON
import KubeClient
import KubeTestServer
import Mutators
import TestSupport
import Testing

@Suite("JSON reader, writer and RFC 6902 patches")
struct JSONTests {
    /// Every recorded API-server response parses to the same value Foundation's reader sees.
    @Test func recordedResponsesParseLikeFoundation() throws {
        let dir = "\(fixturesDirectory)/kube"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".json") }
        #expect(files.count >= 10)
        for f in files {
            let data = try fixture("kube/\(f)")
            let mine = try JSONValue.parse(data)
            let foundation = try JSONDecoder().decode(JSONValue.self, from: data)
            #expect(mine == foundation, "\(f)")
            #expect(try JSONValue.parse(mine.encoded()) == mine, "\(f) round trip")
        }
    }

    /// A selection builds exactly the named members, however their keys are written: escaped
    /// keys match, non-ASCII keys are skipped (but still checked), a key given twice keeps its last
    /// value, and what is not named is neither built nor allowed to be malformed.
    @Test func selectingBuildsTheNamedMembersHoweverTheirKeysAreWritten() throws {
        let selection = JSONSelection.members(["request": .members(["uid": .all, "object": .all]), "kind": .all])
        func parse(_ text: String) throws -> JSONValue {
            try Array(text.utf8).withUnsafeBytes { try JSONValue.parse(bytes: $0, selecting: selection) }
        }
        let text = #"""
            {"kind":"AdmissionReview","k\u00e9y":1,"re\u0071uest":{"uid":"a","uid":"b","o\/bject":2,"object":{"x":[1]},"userInfo":{"y":2}},
             "other":[{"deep":true}],"":0}
            """#
        #expect(try parse(text) == ["kind": "AdmissionReview", "request": ["uid": "b", "object": ["x": [1]]]])
        #expect(try parse(#"{"request":1,"request":{"uid":"c"}}"#) == ["request": ["uid": "c"]])
        #expect(try parse(#"{}"#) == [:])
        #expect(try parse(#"{"kinD":1,"Kind":2,"requesT":{"uid":"x"},"request":{"uiD":"y","xid":"z"}}"#) == ["request": [:]], "every byte counts")
        #expect(try parse(#"{"request":[1,2]}"#) == ["request": [1, 2]], "a selection over a non-object builds it whole")
        for bad in [#"{"kind":"A","x":[1,}"#, #"{"request":{"uid":"a","skip":tru}}"#, #"{"k\#u{1}":1}"#, #"{"kind" 1}"#, #"{"kind":1"#] {
            #expect(throws: JSONParseError.self, "\(bad)") { try parse(bad) }
        }
        let invalidKey = Array(#"{"kind":1,"#.utf8) + [0x22, 0xC3, 0x28, 0x22] + Array(#":2}"#.utf8)
        #expect(throws: JSONParseError.self, "invalid UTF-8 in a key") {
            try invalidKey.withUnsafeBytes { try JSONValue.parse(bytes: $0, selecting: selection) }
        }
    }

    /// `.allExcept` builds every member but those it names, which follow their own selection;
    /// `.elements` reads each element of an array so; `.skip` leaves a member out, however its key
    /// is written and however often it is given, but still checks it is JSON.
    @Test func selectingAllButSomeMembersOfEachElement() throws {
        let selection = JSONSelection.allExcept([
            "items": .elements(.allExcept(["env": .skip, "image": .skip, "meta": .members(["name": .all])]))
        ])
        func parse(_ text: String) throws -> JSONValue {
            try Array(text.utf8).withUnsafeBytes { try JSONValue.parse(bytes: $0, selecting: selection) }
        }
        let text = #"""
            {"kind":"Pod","items":[{"name":"a","env":[{"name":"X","value":"1"}],"image":"busybox","image":"again",
             "meta":{"name":"m","other":1},"mounts":[{"n":1}]},{"name":"b"},3,[4]],"kéy":{"z":null}}
            """#
        #expect(
            try parse(text)
                == [
                    "kind": "Pod", "k\u{e9}y": ["z": nil],
                    "items": [["name": "a", "meta": ["name": "m"], "mounts": [["n": 1]]], ["name": "b"], 3, [4]],
                ])
        #expect(try parse(#"{"items":{"env":1}}"#) == ["items": ["env": 1]], "a selection over a non-array builds it whole")
        #expect(try parse(#"{"items":[]}"#) == ["items": []])
        #expect(try parse(#"{"items":[{"env":1}],"items":[{"image":2,"name":"c"}]}"#) == ["items": [["name": "c"]]], "the last copy")
        for bad in [#"{"items":[{"env":[1,]}]}"#, #"{"items":[{"image":"\#u{1}"}]}"#, #"{"items":[{"env":1},]}"#, #"{"x":tru}"#] {
            #expect(throws: JSONParseError.self, "\(bad)") { try parse(bad) }
        }
    }

    /// `modifyObject` changes a member object where it is, adds one that is absent, replaces a
    /// member that is not an object, and leaves every copy taken before as it was.
    @Test func modifyingAMemberObjectInPlace() throws {
        var o: JSONObject = ["metadata": ["name": "a", "annotations": ["x": "1"]], "kind": "Pod", "spec": 3]
        let before = o
        let count = o.modifyObject("metadata") { meta in
            meta.modifyObject("annotations") { $0["y"] = "2" }
            return meta.count
        }
        #expect(count == 2)
        #expect(o["metadata"] == ["name": "a", "annotations": ["x": "1", "y": "2"]])
        #expect(before["metadata"] == ["name": "a", "annotations": ["x": "1"]], "a copy is not changed")
        o.modifyObject("status") { $0["phase"] = "Pending" }
        #expect(o["status"] == ["phase": "Pending"])
        #expect(Array(o.keys) == ["kind", "metadata", "spec", "status"], "added in key order")
        o.modifyObject("spec") { $0["containers"] = [] }
        #expect(o["spec"] == ["containers": []], "a member that is not an object starts empty")
        #expect(before["spec"] == 3)
    }

    @Test func stringsNumbersAndEscapes() throws {
        let v = try JSONValue.parse(
            Data(#"{"a":"x\"y\\z\/\n\t\u00e9\ud83d\ude00","i":-42,"d":1.5e3,"z":0,"big":12345678901234567890,"b":[true,false,null]}"#.utf8))
        #expect(v["a"] == "x\"y\\z/\n\té😀")
        #expect(v["i"] == .integer(-42))
        #expect(v["d"] == .number(1500))
        #expect(v["z"] == .integer(0))
        #expect(v["big"] == .number(12_345_678_901_234_567_890))
        #expect(v["b"] == [true, false, nil])
        // Control characters are escaped on output and read back.
        let s: JSONValue = ["k": .string("a\u{01}b\"\n")]
        #expect(String(decoding: s.encodedBytes(), as: UTF8.self) == #"{"k":"a\u0001b\"\n"}"#)
        #expect(try JSONValue.parse(s.encoded()) == s)
        // Duplicate keys keep the last value, as the API server's Go reader does.
        #expect(try JSONValue.parse(Data(#"{"k":1,"k":2}"#.utf8))["k"] == .integer(2))
    }

    /// Integers are written digit by digit (no String made of them): every magnitude and sign
    /// writes as Swift spells it, and whole doubles as integers.
    @Test func integersAreWrittenAsSwiftSpellsThem() throws {
        var values: [Int64] = [0, 1, 9, 10, -1, -9, -10, 42, 420, 3607, .max, .min, .max - 1, .min + 1]
        var x: Int64 = 1
        for _ in 0..<18 {
            x *= 10
            values += [x - 1, x, x + 1, -x]
        }
        for v in values {
            #expect(String(decoding: JSONValue.integer(v).encodedBytes(), as: UTF8.self) == String(v))
        }
        #expect(String(decoding: JSONValue.array([.number(-2500), .number(0.5)]).encodedBytes(), as: UTF8.self) == "[-2500,0.5]")
    }

    @Test(arguments: [
        ("", "unexpected end of input"),
        ("{", "expected an object key"),
        ("{\"a\" 1}", "expected ':'"),
        ("[1,]", "expected a JSON value"),
        ("[1 2]", "expected ',' or ']'"),
        ("01", "unexpected data after the JSON value"),
        ("1.", "expected a digit after '.'"),
        ("-", "expected a digit"),
        ("1e", "expected a digit in the exponent"),
        ("tru", "unexpected end of input"),
        ("\"a\u{01}\"", "control character in a string"),
        ("\"\\x\"", "invalid escape"),
        ("\"\\ud800\"", "unpaired UTF-16 surrogate"),
        ("\"\\udc00\"", "unpaired UTF-16 surrogate"),
        ("\"abc", "unterminated string"),
        ("{} {}", "unexpected data after the JSON value"),
        ("1e999", "number out of range"),
    ])
    func malformedInputSaysWhy(input: String, reason: String) {
        #expect {
            try JSONValue.parse(Data(input.utf8))
        } throws: { error in
            (error as? JSONParseError)?.reason == reason
        }
        #expect(!Array(input.utf8).withUnsafeBytes { JSONValue.isWellFormed(bytes: $0) }, "checked without building")
    }

    /// Strings are scanned eight bytes at a time: a quote, backslash, control character or
    /// non-ASCII byte at any position of a block (and numbers of any length next to them) must be
    /// read, and skipped, exactly as Foundation's reader does.
    @Test func eightByteScanningAgreesWithFoundationAtEveryOffset() throws {
        let specials: [(String, Bool)] = [
            (#"\""#, true), (#"\\"#, true), (#"\n"#, true), (#"\u00e9"#, true), ("é", true), ("😀", true),
            ("\u{01}", false), ("\u{1F}", false), ("\u{7F}", true), (#"\x"#, false),
        ]
        for (special, valid) in specials {
            for before in 0..<18 {
                for after in [0, 1, 7, 8, 9, 17] {
                    let text = String(repeating: "a", count: before) + special + String(repeating: "b", count: after)
                    for number in ["0", "-7", "123456789012345678", "1234567890123456789", "1.5", "2e3"] {
                        let json = #"{"items":[{"keep":"\#(text)","skip":"\#(text)","n":\#(number)}],"s":"\#(text)"}"#
                        let data = Data(json.utf8)
                        let foundation = try? JSONSerialization.jsonObject(with: data)
                        #expect((foundation != nil) == valid, "Foundation on \(json)")
                        let whole = try? JSONValue.parse(data)
                        #expect((whole != nil) == valid, "reading \(json)")
                        #expect(data.withUnsafeBytes { JSONValue.isWellFormed(bytes: $0) } == valid, "checking \(json)")
                        let lazy = try? data.withUnsafeBytes { try JSONValue.parse(bytes: $0, lazyArrayAt: ["items"], keep: ["keep"]) }
                        #expect((lazy != nil) == valid, "skipping \(json)")
                        guard let whole, let lazy, let expected = (foundation as? [String: Any])?["s"] as? String else { continue }
                        #expect(whole["s"]?.stringValue == expected)
                        #expect(whole["items"]?[0]?["skip"]?.stringValue == expected)
                        #expect(lazy.elements.first?.kept["keep"]?.stringValue == expected)
                        let element = #"{"keep":"\#(text)","skip":"\#(text)","n":\#(number)}"#
                        #expect(lazy.elements.first?.range == 10..<(10 + element.utf8.count))
                    }
                }
            }
        }
    }

    /// Strings are checked for what needs escaping eight bytes at a time: a quote, backslash or
    /// control character at any position is escaped (Foundation reads the string back), and a
    /// string without any is written as its bytes, non-ASCII and DEL included.
    @Test func eightByteEscapeCheckingAtEveryOffset() throws {
        for special in ["\"", "\\", "\u{01}", "\u{1F}", "\n", "\u{7F}", "é", "😀"] {
            for before in 0..<18 {
                for after in [0, 1, 7, 8, 9] {
                    let text = String(repeating: "a", count: before) + special + String(repeating: "é", count: after)
                    let written = JSONValue.string(text).encodedBytes()
                    let back = try JSONSerialization.jsonObject(with: Data(written), options: .fragmentsAllowed) as? String
                    #expect(back == text, "\(text.debugDescription)")
                    let plain = !["\"", "\\", "\u{01}", "\u{1F}", "\n"].contains(special)
                    #expect((written == Array("\"\(text)\"".utf8)) == plain, "\(text.debugDescription) written as its bytes")
                }
            }
        }
    }

    @Test func invalidUTF8AndDeepNestingAreErrorsNotCrashes() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Data([0x22, 0xFF, 0xFE, 0x22])) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect { try JSONValue.parse(Data(deep.utf8)) } throws: { ($0 as? JSONParseError)?.reason.contains("nested deeper") == true }
        let ok = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: Never.self) { try JSONValue.parse(Data(ok.utf8)) }
        #expect(!Array(deep.utf8).withUnsafeBytes { JSONValue.isWellFormed(bytes: $0) })
        #expect(Array(ok.utf8).withUnsafeBytes { JSONValue.isWellFormed(bytes: $0) })
        #expect(![UInt8]([0x22, 0xFF, 0xFE, 0x22]).withUnsafeBytes { JSONValue.isWellFormed(bytes: $0) })
    }

    /// Strings Kubernetes spells the same in most pods are read as kept literals: the same values
    /// as any other string, whether known, one byte off, or written with an escape.
    @Test func knownStringsReadAsTheirBytesSay() throws {
        let known = "/var/run/secrets/kubernetes.io/serviceaccount"
        for text in [known, "/var/run/secrets/kubernetes.io/serviceaccounT", "terminationMessagePath", "terminationMessagePatH"] {
            let json = #"{"\#(text)":"\#(text)","short":"a"}"#
            let value = try JSONValue.parse(Data(json.utf8))
            #expect(value[text]?.stringValue == text)
            #expect(value.objectValue?.map(\.key).contains(text) == true)
        }
        let escaped = try JSONValue.parse(Data(#"{"k":"\/var\/run\/secrets\/kubernetes.io\/serviceaccount"}"#.utf8))
        #expect(escaped["k"]?.stringValue == known)
        let (table, firstOfLength) = KnownStrings.table
        #expect(table.count == KnownStrings.all.filter { $0.utf8.count > 15 }.count)
        for length in 0..<(firstOfLength.count - 1) {
            for known in table[firstOfLength[length]..<firstOfLength[length + 1]] {
                #expect(known.string.utf8.count == length && length > 15)
                #expect(KnownStrings.string(UnsafeBufferPointer(start: known.bytes, count: length)) == known.string)
            }
        }
    }

    /// Objects keep their members sorted and each key once, whatever order they are built in.
    @Test(arguments: [3, 40])  // small objects are scanned, larger ones searched by halving
    func objectsAreSortedMapsWhateverTheOrderOfConstruction(size: Int) throws {
        let keys = (0..<size).map { "k\(($0 * 7) % size)" }  // a fixed shuffle
        let pairs = keys.map { ($0, JSONValue.string($0)) }
        let built = JSONObject(pairs)
        #expect(Array(built.keys) == keys.sorted())
        var assigned = JSONObject()
        for (k, v) in pairs.reversed() { assigned[k] = v }
        #expect(assigned == built)
        #expect(JSONValue.object(assigned).hashValue == JSONValue.object(built).hashValue)
        for k in keys { #expect(built[k] == .string(k)) }
        #expect(built["absent"] == nil)  // nil, not .null
        #expect(built["k1"] != nil && JSONObject(pairs + [("k1", .null)])["k1"] == .null)

        var edited = built
        edited["k1"] = nil
        #expect(edited.count == size - 1 && edited["k1"] == nil)
        #expect(edited.removeValue(forKey: "k0") == .string("k0") && edited.removeValue(forKey: "k0") == nil)
        edited["k0"] = 1
        edited["k1"] = "k1"
        #expect(edited != built && edited["k0"] == 1)
        edited["k0"] = "k0"
        #expect(edited == built)
        #expect(Array(edited.keys) == keys.sorted())
    }

    /// A key given twice keeps its last value, in the reader, in literals and in YAML-built objects.
    @Test func duplicateKeysKeepTheLastValue() throws {
        let v = try JSONValue.parse(Data(#"{"b":1,"a":2,"b":3,"c":{"x":1,"x":2}}"#.utf8))
        #expect(v == ["a": 2, "b": 3, "c": ["x": 2]])
        #expect(v.jsonString == #"{"a":2,"b":3,"c":{"x":2}}"#)
        #expect(JSONObject([("z", 1), ("a", 1), ("z", 2), ("a", 3), ("z", 4)]) == ["a": 3, "z": 4])
    }

    @Test func insertingInFrontIsOneAdd() throws {
        let a: JSONValue = ["spec": ["containers": [["name": "app"], ["name": "log"]]]]
        let b: JSONValue = ["spec": ["containers": [["name": "fuse"], ["name": "app"], ["name": "log"]]]]
        let ops = JSONPatch.diff(from: a, to: b)
        #expect(ops == [PatchOperation(op: .add, path: "/spec/containers/0", value: ["name": "fuse"])])
        #expect(try JSONPatch.apply(ops, to: a) == b)
    }

    /// An element put in front of named elements that change too is one `add` and their own
    /// changes, not each element rewritten into the one before it; elements gone are removed.
    /// Arrays whose names repeat or change order are diffed by place, as before.
    @Test func namedElementsArePairedByName() throws {
        let a: JSONValue = ["spec": ["initContainers": [["name": "prep", "image": "x", "mounts": [1]], ["name": "old"], ["name": "log"]]]]
        let b: JSONValue = ["spec": ["initContainers": [["name": "fuse", "image": "f"], ["name": "prep", "image": "x", "mounts": [1, 2]], ["name": "log"]]]]
        let ops = JSONPatch.diff(from: a, to: b)
        #expect(
            ops == [
                PatchOperation(op: .add, path: "/spec/initContainers/0/mounts/1", value: 2),
                PatchOperation(op: .remove, path: "/spec/initContainers/1"),
                PatchOperation(op: .add, path: "/spec/initContainers/0", value: ["name": "fuse", "image": "f"]),
            ])
        #expect(try JSONPatch.apply(ops, to: a) == b)
        let twice: JSONValue = [["name": "a", "v": 1], ["name": "a", "v": 2]]
        let twiceAfter: JSONValue = [["name": "s"], ["name": "a", "v": 3], ["name": "a", "v": 2]]
        #expect(try JSONPatch.apply(JSONPatch.diff(from: twice, to: twiceAfter), to: twice) == twiceAfter)
        #expect(JSONPatch.diff(from: twice, to: twiceAfter).contains { $0.path == "/0/name" }, "names repeat: by place")
        let swapped: JSONValue = [["name": "b"], ["name": "a", "v": 1]]
        let ab: JSONValue = [["name": "a"], ["name": "b"]]
        #expect(try JSONPatch.apply(JSONPatch.diff(from: ab, to: swapped), to: ab) == swapped, "order changed: by place")
    }

    /// Random arrays of named objects and random edits (insertions, removals, changes, now and then
    /// a swap or a repeated name): applying the diff always gives the target.
    @Test func namedElementsDiffThenApplyGivesTheTarget() throws {
        var rng = SplitMix(seed: 7)
        for _ in 0..<2000 {
            let count = Int(rng.next() % 5)
            let a: [JSONValue] = (0..<count).map { ["name": .string("c\($0)"), "v": .integer(Int64(rng.next() % 3))] }
            var b: [JSONValue] = []
            var fresh = 0
            for element in a {
                if rng.next() % 4 == 0 { b.append(["name": .string("n\(fresh)")]); fresh += 1 }
                switch rng.next() % 4 {
                case 0: continue  // removed
                case 1: b.append(["name": element["name"]!, "v": .integer(Int64(rng.next() % 3)), "w": true])
                default: b.append(element)
                }
            }
            if rng.next() % 3 == 0 { b.append(["name": .string("n\(fresh)")]) }
            if b.count > 1, rng.next() % 8 == 0 { b.swapAt(0, b.count - 1) }
            if b.count > 1, rng.next() % 8 == 0 { b[0]["name"] = b[1]["name"] }
            let ops = JSONPatch.diff(from: .array(a), to: .array(b))
            #expect(try JSONPatch.apply(ops, to: .array(a)) == .array(b), "\(JSONValue.array(a).jsonString) -> \(JSONValue.array(b).jsonString)")
        }
    }

    @Test func keysWithSlashAndTildeAreEscaped() throws {
        let a: JSONValue = ["metadata": ["annotations": ["x": "1"]]]
        let b: JSONValue = ["metadata": ["annotations": ["x": "1", "locus.dev/injected": "y", "a~b": "z"]]]
        let ops = JSONPatch.diff(from: a, to: b)
        #expect(Set(ops.map(\.path)) == ["/metadata/annotations/locus.dev~1injected", "/metadata/annotations/a~0b"])
        #expect(try JSONPatch.apply(ops, to: a) == b)
    }

    /// Random documents and random edits: applying the diff always gives the target.
    @Test func diffThenApplyGivesTheTarget() throws {
        var rng = SplitMix(seed: 42)
        for _ in 0..<2000 {
            let a = randomValue(&rng, depth: 0)
            let b = randomEdit(a, &rng, depth: 0)
            let ops = JSONPatch.diff(from: a, to: b)
            #expect(try JSONPatch.apply(ops, to: a) == b, "\(a.jsonString) -> \(b.jsonString)")
            if a == b { #expect(ops.isEmpty) }
        }
    }

    @Test func applyRefusesBadPaths() {
        let doc: JSONValue = ["a": [1, 2]]
        for op in [
            PatchOperation(op: .replace, path: "/b", value: 1), PatchOperation(op: .remove, path: "/a/5"),
            PatchOperation(op: .add, path: "/a/9", value: 1), PatchOperation(op: .add, path: "/a/01", value: 1),
            PatchOperation(op: .add, path: "a", value: 1),
        ] {
            #expect(throws: PatchError.self, "\(op.path)") { try JSONPatch.apply([op], to: doc) }
        }
    }
}

typealias SplitMix = SplitMix64

func randomValue(_ rng: inout SplitMix, depth: Int) -> JSONValue {
    switch Int.random(in: 0..<(depth > 3 ? 4 : 7), using: &rng) {
    case 0: return .null
    case 1: return .bool(Bool.random(using: &rng))
    case 2: return .integer(Int64.random(in: -5...5, using: &rng))
    case 3: return .string(["a", "b/c", "d~e", ""].randomElement(using: &rng)!)
    case 4, 5:
        return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
    default:
        var o: JSONObject = [:]
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            o[["k", "x/y", "t~", "0", "-"].randomElement(using: &rng)!] = randomValue(&rng, depth: depth + 1)
        }
        return .object(o)
    }
}

func randomEdit(_ v: JSONValue, _ rng: inout SplitMix, depth: Int) -> JSONValue {
    if Int.random(in: 0..<5, using: &rng) == 0 { return randomValue(&rng, depth: depth) }
    switch v {
    case .array(var a):
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: a.insert(randomValue(&rng, depth: depth + 1), at: Int.random(in: 0...a.count, using: &rng))
        case 1 where !a.isEmpty: a.remove(at: Int.random(in: 0..<a.count, using: &rng))
        case 2 where !a.isEmpty:
            let i = Int.random(in: 0..<a.count, using: &rng)
            a[i] = randomEdit(a[i], &rng, depth: depth + 1)
        default: a.append(randomValue(&rng, depth: depth + 1))
        }
        return .array(a)
    case .object(var o):
        if let k = o.keys.sorted().randomElement(using: &rng), Bool.random(using: &rng) {
            o[k] = Bool.random(using: &rng) ? nil : randomEdit(o[k]!, &rng, depth: depth + 1)
        } else {
            o["new/~\(Int.random(in: 0..<3, using: &rng))"] = randomValue(&rng, depth: depth + 1)
        }
        return .object(o)
    default:
        return randomValue(&rng, depth: depth)
    }
}
