import Foundation

/// The events of the quality loops: the objective check and best-of-N rounds.
extension LedgerChange {
    typealias EventMaker<Payload: EventPayload> = (EventKind, String, Payload) -> MissionEvent

    func objectiveEvent(
        _ verdict: ObjectiveVerdict,
        putToHuman: Bool,
        _ make: EventMaker<MissionEvent.ObjectiveChecked>
    ) -> MissionEvent {
        let payload = MissionEvent.ObjectiveChecked(
            summary: verdict.summary,
            proposed: verdict.proposed.map { .init(id: $0.id, title: $0.title, criteria: $0.criteria) },
            leftOut: verdict.leftOut,
            putToHuman: putToHuman,
            met: verdict.met
        )
        let said: String
        switch verdict.met {
        case true?:
            said = "the goal is met: \(verdict.summary)"
        case false? where verdict.proposed.isEmpty:
            said = "the goal is not met, and no group was proposed (\(verdict.summary)); going on to the final verify"
        case false?:
            let titles = verdict.proposed.map { "\($0.id) (\($0.title))" }.joined(separator: ", ")
            let next = putToHuman ? "put to a human: `flotilla approve` adds them, `flotilla reject` does not" : "added"
            said =
                "the goal is not met: \(verdict.summary); proposed \(titles)"
                + (verdict.leftOut > 0 ? " (\(verdict.leftOut) more left out by the limit)" : "") + "; \(next)"
        case nil:
            said = "no usable answer (\(verdict.summary)); going on to the final verify"
        }
        return make(.objectiveChecked, "objective check: \(said)", payload)
    }

    func speculationEvent(
        group: String,
        _ candidates: [SpeculationCandidate],
        _ make: EventMaker<MissionEvent.SpeculationRanked>
    ) -> MissionEvent {
        let ranked = candidates.map { candidate in
            MissionEvent.SpeculationRanked.Candidate(
                attempt: candidate.key.number,
                passed: candidate.passed,
                diffLines: candidate.diffLines,
                costUSD: candidate.costUSD,
                criteriaPassed: candidate.criteria?.passed,
                reviewScore: candidate.reviewScore,
                lostBecause: candidate.lostBecause
            )
        }
        let winner = candidates.first { $0.lostBecause == nil }
        let message =
            winner.map { "best of \(candidates.count) for \(group): \($0.key) lands" }
            ?? "best of \(candidates.count) for \(group): no candidate passed its gate"
        return make(.speculationRanked, message, MissionEvent.SpeculationRanked(group: group, candidates: ranked))
    }
}
