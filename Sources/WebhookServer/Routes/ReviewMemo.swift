import Foundation
import JSON
public import Mutators
import Synchronization

/// Whole answers to earlier reviews, for a review that is an earlier one byte for byte but for
/// its `request.uid` and the name of its service-account token volume.
///
/// The pods of one ReplicaSet or Job reach a mutating webhook before the API server has named
/// them (`generateName` only; name, uid and creation time are set after admission), so their
/// reviews differ only where the API server itself writes something new for each: the request's
/// uid, and the projected token volume its ServiceAccount admission adds to every pod that mounts
/// the token, named `kube-api-access-` and five random letters or digits (in the pod's volumes
/// and in each container's volume mounts). The decision reads nothing but the review and the
/// catalog, and reads volume names only to match mounts to volumes, so such a review gets the same
/// decision with its own uid in the answer; an answer that names the token volume is not kept.
/// An answer is kept under the catalog's `revision` at the time it was decided, and a change to
/// the catalog empties the memo (as `ResolutionMemo` does).
///
/// The API server writes the pod's `metadata.managedFields` before mutating admission runs (its
/// field manager, in the create handler), with a `time` of one-second resolution, so replicas
/// created in different seconds differ there too. The decision never reads managedFields (the
/// review's parse checks them to be JSON without building them, and a patch is the diff of what
/// was built), so they are outside the match as well: a review whose managedFields value differs,
/// at the same place and of the same length, matches if that value is well-formed JSON.
///
/// A review is matched by comparing bytes: every byte of the kept review outside the uid, the
/// token name's suffixes and the managedFields value; a new uid of the same length made only of letters, digits and `-` (what
/// the API server sends); one suffix of lowercase letters and digits, the same at every place. So
/// the new review is the same JSON, and its uid is written into the answer unescaped. Anything
/// else is decided afresh.
///
/// Bounded: at most `capacity` reviews of at most `maxReviewBytes` each; when full, it starts over.
/// A review that matches nothing is compared with at most `perLength` kept reviews of its length
/// (the oldest of those makes room), so pods that are all different cost little.
///
/// With `keepFromSecondSighting` (as the webhook runs it), a review's answer is kept only when a
/// review with the same bytes but for the uid, the token name and managedFields was decided
/// before: the first is remembered by a 64-bit fingerprint of those bytes alone (the last
/// `capacity * 4` fingerprints). A workload's second replica is decided again, the third on are
/// answered from the memo; a pod no other review repeats (a StatefulSet's, a bare pod, an indexed
/// Job's) costs a fingerprint instead of a copy of its review, and does not push a workload's
/// answer out. A fingerprint only decides whether to keep: a review is matched by its bytes.
public final class ReviewMemo: Sendable {
    /// An answer and what was decided, for metrics and logs.
    public struct Answer: Sendable {
        public var bytes: [UInt8]
        /// The uid this answer carries.
        public var uid: String
        /// The decision as made for the first of these reviews: its `response.uid` is that review's,
        /// and the admitted pod and explanations are not kept.
        public var result: AdmissionResult
        /// The review's `request.namespace`.
        public var namespace: String?

        public init(bytes: [UInt8], uid: String, result: AdmissionResult, namespace: String?) {
            self.bytes = bytes
            self.uid = uid
            self.result = result
            self.namespace = namespace
        }
    }

    /// How the ServiceAccount admission names the token volume: this, then `tokenSuffixLength`
    /// random characters (Kubernetes' `names.SimpleNameGenerator`).
    static let tokenVolumePrefix = Array("kube-api-access-".utf8)
    static let tokenSuffixLength = 5

    final class Entry: Sendable {
        let review: [UInt8]
        /// The uid's bytes (between the quotes) in `review`, and in `answer.bytes`.
        let uidInReview: Range<Int>
        let uidInAnswer: Range<Int>
        /// Where the token volume name's suffix is, at each place `review` writes the name.
        let tokenSuffixes: [Int]
        /// The pod's managedFields value in `review`, if it has one.
        let managedFields: Range<Int>?
        /// The rest of `review`: the ranges a matching review has the same bytes in.
        let fixed: [Range<Int>]
        let answer: Answer

        init(
            review: [UInt8], uidInReview: Range<Int>, uidInAnswer: Range<Int>, tokenSuffixes: [Int], managedFields: Range<Int>?,
            fixed: [Range<Int>], answer: Answer
        ) {
            self.review = review
            self.uidInReview = uidInReview
            self.uidInAnswer = uidInAnswer
            self.tokenSuffixes = tokenSuffixes
            self.managedFields = managedFields
            self.fixed = fixed
            self.answer = answer
        }
    }

    /// The ranges of a review of `count` bytes outside its uid, token name suffixes and managedFields.
    static func fixedRanges(count: Int, uidInReview: Range<Int>, tokenSuffixes: [Int], managedFields: Range<Int>?) -> [Range<Int>] {
        var varying = [uidInReview]
        varying.reserveCapacity(tokenSuffixes.count + 2)
        for suffix in tokenSuffixes { varying.append(suffix..<(suffix + tokenSuffixLength)) }
        if let managedFields { varying.append(managedFields) }
        varying.sort { $0.lowerBound < $1.lowerBound }
        var fixed: [Range<Int>] = []
        fixed.reserveCapacity(varying.count + 1)
        var start = 0
        for v in varying {
            fixed.append(start..<v.lowerBound)
            start = v.upperBound
        }
        fixed.append(start..<count)
        return fixed
    }

    /// A fingerprint of `review`'s bytes in `fixed` and of where those ranges are (multiplied and
    /// rotated in four independent lanes of eight bytes, so the multiplications overlap: fast, not
    /// meant to resist a chosen collision, which only keeps an answer one sighting early).
    static func fingerprint(of review: UnsafeRawBufferPointer, fixed: [Range<Int>]) -> UInt64 {
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (0x9E37_79B9_7F4A_7C15 ^ UInt64(review.count), 1, 2, 3)
        @inline(__always) func mix(_ h: inout UInt64, _ w: UInt64) {
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
        }
        for r in fixed {
            mix(&lanes.0, UInt64(r.lowerBound) << 32 | UInt64(r.count))
            var p = r.lowerBound
            while p + 32 <= r.upperBound {
                mix(&lanes.0, review.loadUnaligned(fromByteOffset: p, as: UInt64.self))
                mix(&lanes.1, review.loadUnaligned(fromByteOffset: p + 8, as: UInt64.self))
                mix(&lanes.2, review.loadUnaligned(fromByteOffset: p + 16, as: UInt64.self))
                mix(&lanes.3, review.loadUnaligned(fromByteOffset: p + 24, as: UInt64.self))
                p += 32
            }
            while p + 8 <= r.upperBound {
                mix(&lanes.0, review.loadUnaligned(fromByteOffset: p, as: UInt64.self))
                p += 8
            }
            var tail: UInt64 = 0
            while p < r.upperBound {
                tail = tail << 8 | UInt64(review[p])
                p += 1
            }
            mix(&lanes.0, tail)
        }
        var h = lanes.0
        mix(&h, lanes.1)
        mix(&h, lanes.2)
        mix(&h, lanes.3)
        return h
    }

    struct State {
        var revision: UInt64 = .max
        /// By the review's length: replicas' reviews have the same length.
        var entries: [Int: [Entry]] = [:]
        var count = 0
        /// Fingerprints of reviews decided once and not kept (with `keepFromSecondSighting`), oldest
        /// overwritten first.
        var seen: [UInt64] = []
        var nextSeen = 0
    }

    private let state = Mutex(State())
    public let capacity: Int
    public let maxReviewBytes: Int
    /// How many kept reviews of one length a review is compared with.
    public let perLength: Int
    /// Whether an answer is kept only when its review is decided the second time (see above).
    public let keepFromSecondSighting: Bool

    public init(capacity: Int = 64, maxReviewBytes: Int = 64 << 10, perLength: Int = 8, keepFromSecondSighting: Bool = false) {
        self.capacity = capacity
        self.maxReviewBytes = maxReviewBytes
        self.perLength = perLength
        self.keepFromSecondSighting = keepFromSecondSighting
    }

    /// The answer to `review` when it repeats a review answered at `revision` but for its uid and
    /// token volume name.
    public func answer(to review: UnsafeRawBufferPointer, revision: UInt64) -> Answer? {
        guard review.count <= maxReviewBytes,
            let candidates = state.withLock({ s -> [Entry]? in
                guard s.revision == revision else { return nil }
                return s.entries[review.count]
            })
        else { return nil }
        for entry in candidates {
            if let answer = entry.answer(to: review) { return answer }
        }
        return nil
    }

    /// Keeps `answer`, the answer to `review` decided at `revision`, whose uid's raw bytes are at
    /// `uidInReview` in `review` (`AdmissionRequest.uidBytes`) and whose JSON string (quotes
    /// included) is at `uidInAnswer` in the answer; `patch` is the answer's JSON patch, unencoded.
    /// `managedFields` is where the review's parse found the pod's managedFields value
    /// (`AdmissionRequest.managedFieldsBytes`; nil: it has none).
    /// Does nothing for a review it could not match byte for byte later (too large, a uid written
    /// with escapes or other characters, token volume names that differ) or whose answer names the
    /// token volume.
    public func remember(
        review: UnsafeRawBufferPointer, uidInReview: Range<Int>?, answer: Answer, uidInAnswer: Range<Int>, patch: [UInt8],
        revision: UInt64, managedFields located: Range<Int>?
    ) {
        guard review.count <= maxReviewBytes, uidInAnswer.count >= 2, let uidInReview, uidInReview.upperBound <= review.count,
            Self.isPlainUID(UnsafeRawBufferPointer(rebasing: review[uidInReview])),
            Self.equal(UnsafeRawBufferPointer(rebasing: review[uidInReview]), answer.uid),
            let tokenSuffixes = Self.tokenSuffixes(in: review),
            tokenSuffixes.allSatisfy({ !uidInReview.overlaps($0..<($0 + Self.tokenSuffixLength)) })
        else { return }
        // The API server writes managedFields as an array; anything else is matched like the rest.
        let managedFields = located.flatMap { r in r.upperBound <= review.count && review[r.lowerBound] == UInt8(ascii: "[") ? r : nil }
        if let managedFields {
            guard !managedFields.overlaps(uidInReview),
                tokenSuffixes.allSatisfy({ !managedFields.overlaps($0..<($0 + Self.tokenSuffixLength)) })
            else { return }
        }
        let uidInAnswer = (uidInAnswer.lowerBound + 1)..<(uidInAnswer.upperBound - 1)
        guard answer.bytes.withUnsafeBytes({ Self.equal(UnsafeRawBufferPointer(rebasing: $0[uidInAnswer]), answer.uid) }) else { return }
        if let suffix = tokenSuffixes.first {
            let name = Array(review[(suffix - Self.tokenVolumePrefix.count)..<(suffix + Self.tokenSuffixLength)])
            let contains = { (bytes: [UInt8]) in bytes.withUnsafeBytes { Self.firstOffset(of: name, in: $0, from: 0) != nil } }
            guard !contains(answer.bytes), !contains(patch) else { return }
        }
        let fixed = Self.fixedRanges(
            count: review.count, uidInReview: uidInReview, tokenSuffixes: tokenSuffixes, managedFields: managedFields)
        if keepFromSecondSighting {
            guard seenBefore(Self.fingerprint(of: review, fixed: fixed)) else { return }
        }
        var kept = answer
        kept.result.pod = nil
        kept.result.explanations = []
        let entry = Entry(
            review: Array(review), uidInReview: uidInReview, uidInAnswer: uidInAnswer, tokenSuffixes: tokenSuffixes,
            managedFields: managedFields, fixed: fixed, answer: kept)
        state.withLock { s in
            if s.revision != revision || s.count >= capacity {
                s.revision = revision
                s.entries = [:]
                s.count = 0
            }
            var sameLength = s.entries.removeValue(forKey: review.count) ?? []
            if sameLength.count >= perLength {
                sameLength.removeFirst()
                s.count -= 1
            }
            sameLength.append(entry)
            s.entries[review.count] = sameLength
            s.count += 1
        }
    }

    /// Whether `fingerprint` was noted before (it is then forgotten: its answer is about to be
    /// kept); notes it otherwise.
    private func seenBefore(_ fingerprint: UInt64) -> Bool {
        state.withLock { s in
            if let at = s.seen.firstIndex(of: fingerprint) {
                s.seen[at] = 0
                return true
            }
            if s.seen.count < capacity * 4 {
                s.seen.append(fingerprint)
            } else {
                s.seen[s.nextSeen] = fingerprint
                s.nextSeen = (s.nextSeen + 1) % s.seen.count
            }
            return false
        }
    }

    /// Whether `bytes` are the UTF-8 of `text`.
    static func equal(_ bytes: UnsafeRawBufferPointer, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { t in t.count == bytes.count && (t.isEmpty || memcmp(t.baseAddress!, bytes.baseAddress!, t.count) == 0) }
    }

    /// A uid the API server would send: not empty, letters, digits and `-` only.
    static func isPlainUID(_ bytes: UnsafeRawBufferPointer) -> Bool {
        !bytes.isEmpty
            && bytes.allSatisfy { b in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "-")
            }
    }

    /// Where `needle` (not empty) first appears in `haystack` at or after `from`.
    static func firstOffset(of needle: [UInt8], in haystack: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard !needle.isEmpty, let base = haystack.baseAddress else { return nil }
        let last = haystack.count - needle.count
        var p = from
        while p <= last {
            guard let hit = memchr(base + p, Int32(needle[0]), last - p + 1) else { return nil }
            let at = base.distance(to: UnsafeRawPointer(hit))
            if needle.withUnsafeBytes({ memcmp(base + at, $0.baseAddress!, needle.count) }) == 0 { return at }
            p = at + 1
        }
        return nil
    }

    /// A token volume name's suffix: lowercase letters and digits.
    static func isTokenSuffix(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { b in (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
    }

    /// Where `review` writes a token volume name (a whole JSON string), the offset of its suffix at
    /// each place; nil when two of them differ.
    static func tokenSuffixes(in review: UnsafeRawBufferPointer) -> [Int]? {
        var found: [Int] = []
        var from = 0
        while let at = firstOffset(of: tokenVolumePrefix, in: review, from: from) {
            let suffix = at + tokenVolumePrefix.count
            from = at + 1
            guard at > 0, review[at - 1] == UInt8(ascii: "\""), suffix + tokenSuffixLength < review.count,
                review[suffix + tokenSuffixLength] == UInt8(ascii: "\""),
                isTokenSuffix(UnsafeRawBufferPointer(rebasing: review[suffix..<(suffix + tokenSuffixLength)]))
            else { continue }
            if let first = found.first, memcmp(review.baseAddress! + first, review.baseAddress! + suffix, tokenSuffixLength) != 0 {
                return nil
            }
            found.append(suffix)
        }
        return found
    }
}

extension ReviewMemo.Entry {
    /// This entry's answer with `review`'s uid, when `review` is this entry's review but for its uid
    /// and token volume name.
    func answer(to review: UnsafeRawBufferPointer) -> ReviewMemo.Answer? {
        guard review.count == self.review.count else { return nil }
        let same = self.review.withUnsafeBytes { mine in
            fixed.allSatisfy { r in r.isEmpty || memcmp(mine.baseAddress! + r.lowerBound, review.baseAddress! + r.lowerBound, r.count) == 0
            }
        }
        let uid = UnsafeRawBufferPointer(rebasing: review[uidInReview])
        guard same, ReviewMemo.isPlainUID(uid) else { return nil }
        if let managedFields {
            // Another review's managedFields, in the same place: answered only if it is JSON (an array).
            let value = UnsafeRawBufferPointer(rebasing: review[managedFields])
            guard value.first == UInt8(ascii: "["), JSONValue.isWellFormed(bytes: value) else { return nil }
        }
        if let first = tokenSuffixes.first {
            let n = ReviewMemo.tokenSuffixLength
            guard ReviewMemo.isTokenSuffix(UnsafeRawBufferPointer(rebasing: review[first..<(first + n)])),
                tokenSuffixes.dropFirst().allSatisfy({ memcmp(review.baseAddress! + $0, review.baseAddress! + first, n) == 0 })
            else { return nil }
        }
        var answer = self.answer
        answer.bytes.withUnsafeMutableBytes { bytes in
            UnsafeMutableRawBufferPointer(rebasing: bytes[uidInAnswer]).copyMemory(from: uid)
        }
        answer.uid = String(decoding: uid, as: UTF8.self)
        return answer
    }
}
