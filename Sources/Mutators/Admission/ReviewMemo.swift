import Foundation
import Synchronization

/// Whole answers to earlier reviews, for a review that is an earlier one byte for byte but for
/// its `request.uid`.
///
/// The pods of one ReplicaSet or Job reach a mutating webhook before the API server
/// has named them (`generateName` only; name, uid and creation time are set after admission), so
/// every replica's review is the same bytes with a new request uid, and the same decision with
/// that uid in the answer. The decision reads nothing but the review and the catalog, so an answer
/// is kept under the catalog's `revision` at the time it was decided, and a change to the catalog
/// empties the memo (as `ResolutionMemo` does). A review is matched by comparing bytes: the
/// stored review's bytes before and after its uid, and a new uid of the same length made only of
/// letters, digits and `-` (what the API server sends), so the new review is the same JSON and its
/// uid is written into the answer unescaped. Anything else is decided afresh.
///
/// Bounded: at most `capacity` reviews of at most `maxReviewBytes` each; when full, it starts over.
/// A review that matches nothing is compared with at most `perLength` kept reviews of its length
/// (the oldest of those makes room), so pods that are all different cost little.
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

    final class Entry: Sendable {
        let review: [UInt8]
        /// The uid's bytes (between the quotes) in `review`, and in `answer.bytes`.
        let uidInReview: Range<Int>
        let uidInAnswer: Range<Int>
        let answer: Answer

        init(review: [UInt8], uidInReview: Range<Int>, uidInAnswer: Range<Int>, answer: Answer) {
            self.review = review
            self.uidInReview = uidInReview
            self.uidInAnswer = uidInAnswer
            self.answer = answer
        }
    }

    struct State {
        var revision: UInt64 = .max
        /// By the review's length: replicas' reviews have the same length.
        var entries: [Int: [Entry]] = [:]
        var count = 0
    }

    private let state = Mutex(State())
    public let capacity: Int
    public let maxReviewBytes: Int

    public let perLength: Int

    public init(capacity: Int = 64, maxReviewBytes: Int = 64 << 10, perLength: Int = 8) {
        self.capacity = capacity
        self.maxReviewBytes = maxReviewBytes
        self.perLength = perLength
    }

    /// The answer to `review` when it repeats a review answered at `revision` but for its uid.
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
    /// included) is at `uidInAnswer` in the answer. Does nothing for a review it could not match
    /// byte for byte later: too large, or a uid written with escapes or other characters.
    public func remember(
        review: UnsafeRawBufferPointer, uidInReview: Range<Int>?, answer: Answer, uidInAnswer: Range<Int>, revision: UInt64
    ) {
        guard review.count <= maxReviewBytes, uidInAnswer.count >= 2, let uidInReview, uidInReview.upperBound <= review.count,
            Self.isPlainUID(UnsafeRawBufferPointer(rebasing: review[uidInReview])),
            review[uidInReview].elementsEqual(answer.uid.utf8)
        else { return }
        let uidInAnswer = (uidInAnswer.lowerBound + 1)..<(uidInAnswer.upperBound - 1)
        guard answer.bytes[uidInAnswer].elementsEqual(answer.uid.utf8) else { return }
        var kept = answer
        kept.result.pod = nil
        kept.result.explanations = []
        let entry = Entry(review: Array(review), uidInReview: uidInReview, uidInAnswer: uidInAnswer, answer: kept)
        state.withLock { s in
            if s.revision != revision || s.count >= capacity { s = State(revision: revision) }
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

    /// A uid the API server would send: not empty, letters, digits and `-` only.
    static func isPlainUID(_ bytes: UnsafeRawBufferPointer) -> Bool {
        !bytes.isEmpty
            && bytes.allSatisfy { b in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "-")
            }
    }
}

extension ReviewMemo.Entry {
    /// This entry's answer with `review`'s uid, when `review` is this entry's review but for its uid.
    func answer(to review: UnsafeRawBufferPointer) -> ReviewMemo.Answer? {
        guard review.count == self.review.count else { return nil }
        let uid = UnsafeRawBufferPointer(rebasing: review[uidInReview])
        let same = self.review.withUnsafeBytes { mine in
            memcmp(mine.baseAddress!, review.baseAddress!, uidInReview.lowerBound) == 0
                && memcmp(
                    mine.baseAddress! + uidInReview.upperBound, review.baseAddress! + uidInReview.upperBound,
                    review.count - uidInReview.upperBound) == 0
        }
        guard same, ReviewMemo.isPlainUID(uid) else { return nil }
        var answer = self.answer
        answer.bytes.withUnsafeMutableBytes { bytes in
            UnsafeMutableRawBufferPointer(rebasing: bytes[uidInAnswer]).copyMemory(from: uid)
        }
        answer.uid = String(decoding: uid, as: UTF8.self)
        return answer
    }
}
