/// The order in which verified attempts land, without git: candidates wait in the order their gates passed; a round
/// takes the halves of a failed round before anything new, else up to ``batchSize`` waiting candidates; a failed
/// round of several is split in halves until the candidate that breaks things is alone.
///
/// One round lands at a time, so every landing is verified on top of the previous one.
package struct MergeQueue<Candidate: Sendable & Equatable>: Sendable {
    /// How one round ended, as the queue needs to know it.
    package enum RoundEnd: Sendable {
        /// The round's candidates landed (or nothing was left to land).
        case landed
        /// The verify of `included` failed: several are split in halves and tried apart; one alone is the culprit.
        case failed(included: [Candidate])
        /// The round did not finish (stopped, or an error); its candidates are the caller's to end.
        case abandoned
    }

    package let batchSize: Int
    /// Candidates waiting for a round, oldest first.
    package private(set) var waiting: [Candidate] = []
    /// Halves of failed rounds, tried as they are, before anything new.
    package private(set) var splits: [[Candidate]] = []
    /// The round landing now.
    package private(set) var landing: [Candidate]?

    package init(batchSize: Int) {
        self.batchSize = max(1, batchSize)
    }

    /// Everything waiting or split, not the round landing now.
    package var pending: [Candidate] { splits.flatMap { $0 } + waiting }

    /// Candidates anywhere in the queue, the landing round included.
    package var count: Int { waiting.count + splits.reduce(0) { $0 + $1.count } + (landing?.count ?? 0) }

    package mutating func enqueue(_ candidate: Candidate) {
        waiting.append(candidate)
    }

    /// Candidates that could not join the last round (they conflicted with another of it): first in line next.
    package mutating func putBack(_ candidates: [Candidate]) {
        waiting.insert(contentsOf: candidates, at: 0)
    }

    /// The next round, when none is landing: a split half if one waits, else up to ``batchSize`` candidates.
    package mutating func nextRound() -> [Candidate]? {
        guard landing == nil else { return nil }
        let round: [Candidate]
        if !splits.isEmpty {
            round = splits.removeFirst()
        } else if !waiting.isEmpty {
            round = Array(waiting.prefix(batchSize))
            waiting.removeFirst(round.count)
        } else {
            return nil
        }
        landing = round
        return round
    }

    /// Ends the landing round; returns the culprit when a failed round was one candidate alone.
    @discardableResult
    package mutating func finish(_ end: RoundEnd) -> Candidate? {
        landing = nil
        guard case .failed(let included) = end else { return nil }
        if included.count == 1 { return included[0] }
        let half = included.count / 2
        splits.insert(contentsOf: [Array(included[..<half]), Array(included[half...])], at: 0)
        return nil
    }

    /// Empties the queue (the mission stopped); returns what was waiting or split.
    package mutating func drain() -> [Candidate] {
        defer {
            waiting.removeAll()
            splits.removeAll()
        }
        return pending
    }
}
