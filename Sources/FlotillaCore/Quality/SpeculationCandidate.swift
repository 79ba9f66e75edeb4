import Foundation

/// One candidate of a best-of-N round (`Speculate: N`, `--speculate N`) as it was ranked.
package struct SpeculationCandidate: Sendable, Equatable {
    package var key: AttemptKey
    /// Whether its gate passed (only passing candidates are ranked).
    package var passed: Bool
    /// What its gate showed passing of the group's criteria.
    package var criteria: CriteriaScore?
    package var reviewScore: Int?
    /// Lines added and removed.
    package var diffLines: Int
    package var costUSD: Double
    /// Why it did not land (nil for the winner).
    package var lostBecause: String?

    package init(
        key: AttemptKey,
        passed: Bool,
        criteria: CriteriaScore? = nil,
        reviewScore: Int? = nil,
        diffLines: Int = 0,
        costUSD: Double = 0,
        lostBecause: String? = nil
    ) {
        self.key = key
        self.passed = passed
        self.criteria = criteria
        self.reviewScore = reviewScore
        self.diffLines = diffLines
        self.costUSD = costUSD
        self.lostBecause = lostBecause
    }

    /// Orders passing candidates best first: more criteria passed in the verify report, then a higher review score,
    /// then a smaller diff, then a lower cost, then the earlier attempt.
    ///
    /// Each but the first says why it lost.
    package static func ranked(_ candidates: [SpeculationCandidate]) -> [SpeculationCandidate] {
        var ranked = candidates.filter(\.passed).sorted { a, b in
            if a.criteria.rank != b.criteria.rank { return a.criteria.rank > b.criteria.rank }
            if (a.reviewScore ?? -1) != (b.reviewScore ?? -1) { return (a.reviewScore ?? -1) > (b.reviewScore ?? -1) }
            if a.diffLines != b.diffLines { return a.diffLines < b.diffLines }
            if a.costUSD != b.costUSD { return a.costUSD < b.costUSD }
            return a.key.number < b.key.number
        }
        for index in ranked.indices.dropFirst() { ranked[index].lostBecause = reason(ranked[index], below: ranked[0]) }
        return ranked
    }

    /// Why `loser` ranked below `winner`, in the first criterion that told them apart.
    package static func reason(_ loser: SpeculationCandidate, below winner: SpeculationCandidate) -> String {
        let why: String
        if loser.criteria.rank != winner.criteria.rank {
            why = "fewer criteria passed (\(loser.criteria?.passed ?? 0) against \(winner.criteria?.passed ?? 0))"
        } else if (loser.reviewScore ?? -1) != (winner.reviewScore ?? -1) {
            why = "a lower review score (\(loser.reviewScore ?? 0) against \(winner.reviewScore ?? 0))"
        } else if loser.diffLines != winner.diffLines {
            why = "a larger diff (\(loser.diffLines) lines against \(winner.diffLines))"
        } else if loser.costUSD != winner.costUSD {
            why = "a higher cost (\(formatUSD(loser.costUSD)) against \(formatUSD(winner.costUSD)))"
        } else {
            why = "a tie, broken by the earlier attempt"
        }
        return "outranked by \(winner.key): \(why)"
    }
}
