import Foundation

/// The events of the quality loops: the objective check and best-of-N rounds.
extension LedgerChange {
    typealias EventMaker = (EventKind, AttemptKey?, String, [String: JSONValue]) -> MissionEvent

    func objectiveEvent(_ verdict: ObjectiveVerdict, putToHuman: Bool, _ make: EventMaker) -> MissionEvent {
        var data: [String: JSONValue] = [
            "summary": .string(verdict.summary),
            "proposed": .array(
                verdict.proposed.map { group in
                    .object([
                        "id": .string(group.id), "title": .string(group.title),
                        "criteria": .array(group.criteria.map { .string($0) }),
                    ])
                }
            ),
            "left_out": .number(Double(verdict.leftOut)),
            "put_to_human": .bool(putToHuman),
        ]
        if let met = verdict.met { data["met"] = .bool(met) }
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
        return make(.objectiveChecked, nil, "objective check: \(said)", data)
    }

    func speculationEvent(group: String, _ candidates: [SpeculationCandidate], _ make: EventMaker) -> MissionEvent {
        let ranked = candidates.map { candidate -> JSONValue in
            var entry: [String: JSONValue] = [
                "attempt": .number(Double(candidate.key.number)), "passed": .bool(candidate.passed),
                "diff_lines": .number(Double(candidate.diffLines)), "cost_usd": .number(candidate.costUSD),
            ]
            if let criteria = candidate.criteria { entry["criteria_passed"] = .number(Double(criteria.passed)) }
            if let score = candidate.reviewScore { entry["review_score"] = .number(Double(score)) }
            if let lost = candidate.lostBecause { entry["lost_because"] = .string(lost) }
            return .object(entry)
        }
        let winner = candidates.first { $0.lostBecause == nil }
        let message =
            winner.map { "best of \(candidates.count) for \(group): \($0.key) lands" }
            ?? "best of \(candidates.count) for \(group): no candidate passed its gate"
        return make(.speculationRanked, nil, message, ["group": .string(group), "candidates": .array(ranked)])
    }
}
