import FlotillaCore
import Foundation

/// The candidates of one best-of-N round: attempts of one group run at once, whose results wait until all are in.
struct SpeculativeRound {
    let keys: [AttemptKey]
    var results: [AttemptKey: AttemptResult] = [:]

    init(keys: [AttemptKey]) {
        self.keys = keys
    }

    var complete: Bool { results.count == keys.count }
}

/// Best of N (`Speculate: N`, `--speculate N`): N candidates of a group run at once with different approach hints;
/// once all are in, the passing ones are ranked, the best goes on to land and the others are recorded with why they
/// lost.
extension MissionLoop {
    static let approachHints = [
        "Make the most direct, minimal change that satisfies the criteria.",
        "Take a different route from the most obvious one; restructure where that makes the result clearer.",
        "Start from the checks: run or write them first, then change the code until they pass.",
        "Favour robustness: handle the edge cases and errors the criteria imply.",
        "Favour simplicity: the smallest readable solution, with no new dependencies.",
    ]

    /// What the next attempt of a group hears about a candidate that passed its gate and lost the ranking.
    static func outrankedFeedback(_ lost: String) -> String {
        "Your attempt passed the gate, but another candidate of the same round ranked higher (\(lost)) and landed "
            + "instead."
    }

    /// What a candidate's prompt says under its criteria: make the change, this way.
    static func approachHint(_ index: Int, of width: Int) -> String {
        "Make these criteria true now, in the files, with this approach: "
            + approachHints[index % approachHints.count] + " (Best of \(width): you are candidate \(index + 1) of "
            + "\(width) working on this group at the same time, each in its own checkout; the best-ranked one that "
            + "passes the gate lands.)"
    }

    /// How many candidates the group's next attempt runs as: its `Speculate:` line, or `--speculate` once it has failed
    /// twice; never more than the free slots, the attempts the limit leaves or what the budget affords.
    func speculationWidth(_ group: ChecklistGroup, failedAttempts: Int) -> Int {
        var width = group.speculate ?? (failedAttempts >= 2 ? spec.options.speculate ?? 1 : 1)
        width = min(width, freeSlots.count)
        if let limit = spec.limits.maxAttempts { width = min(width, limit - attemptsStarted) }
        // No more candidates than the budget affords, beside what runs (the dispatcher checked the first one).
        if let budget = spec.limits.maxCostUSD, estimator.estimateUSD > 0 {
            let left = budget - spentUSD - Double(running.count) * estimator.estimateUSD
            let affordable = left / estimator.estimateUSD
            if !(affordable >= Double(width)) { width = affordable.isFinite && affordable > 1 ? Int(affordable) : 1 }
        }
        return max(1, width)
    }

    /// Holds a candidate's result until its round is complete; false when the attempt is not part of a round.
    mutating func holdForRound(
        _ key: AttemptKey,
        _ result: AttemptResult,
        group: inout ThrowingTaskGroup<LoopSignal, any Error>
    ) async throws -> Bool {
        guard var round = rounds[key.group], round.keys.contains(key) else { return false }
        round.results[key] = result
        rounds[key.group] = round
        if round.complete {
            rounds[key.group] = nil
            try await settle(round, group: &group)
        }
        return true
    }

    /// Ranks a complete round: the best passing candidate goes on as a verified one; the rest end, holding the group
    /// only when no candidate passed (and then counting once towards the stall rule).
    mutating func settle(_ round: SpeculativeRound, group: inout ThrowingTaskGroup<LoopSignal, any Error>) async throws
    {
        let records = try await context.ledger.attempts(of: spec.id)
        var candidates: [SpeculationCandidate] = []
        for key in round.keys {
            let record = records.first { $0.key == key }
            var candidate = SpeculationCandidate(
                key: key,
                passed: false,
                diffLines: record?.diff.map { $0.insertions + $0.deletions } ?? 0,
                costUSD: record?.usage.costUSD ?? 0
            )
            switch round.results[key] {
            case .passed(_, let criteria, let score)?:
                candidate.passed = true
                candidate.criteriaPassed = criteria
                candidate.reviewScore = score
            case .failed(let outcome, let reason, _, _)?:
                candidate.lostBecause = "\(outcome.rawValue): \(reason)"
            default:
                candidate.lostBecause = "did not finish"
            }
            candidates.append(candidate)
        }
        let ranked = SpeculationCandidate.ranked(candidates)
        let ordered = ranked + candidates.filter { !$0.passed }
        try await context.record(.speculationRanked(group: round.keys[0].group, ordered), mission: spec.id)

        let winner = ranked.first?.key
        let ending = round.keys.filter { $0 != winner }
        for (index, key) in ending.enumerated() {
            // With a winner the group stays claimed (it lands next); without one, the last ending frees it.
            let last = winner == nil && index == ending.count - 1
            guard let result = round.results[key] else { continue }
            switch result {
            case .passed(_, let criteria, _):
                let lost = ordered.first { $0.key == key }?.lostBecause ?? "outranked"
                try await conclude(
                    key,
                    .rejected,
                    reason: lost,
                    feedback: Self.outrankedFeedback(lost),
                    criteriaPassed: criteria,
                    countsTowardsStall: false,
                    release: false
                )
            case .failed(let outcome, let reason, let text, let criteria):
                try await conclude(
                    key,
                    outcome,
                    reason: reason,
                    feedback: text,
                    criteriaPassed: criteria,
                    countsTowardsStall: last,
                    release: last
                )
            case .rateLimited(let reason, let text, _, _):
                try await conclude(
                    key,
                    .agentFailed,
                    reason: reason,
                    feedback: text,
                    criteriaPassed: nil,
                    countsTowardsStall: false,
                    release: last
                )
            case .cancelled:
                try await conclude(
                    key,
                    .interrupted,
                    reason: "the mission stopped",
                    feedback: Feedback.interrupted("the mission stopped"),
                    criteriaPassed: nil,
                    release: last
                )
            case .error(let message):
                try await conclude(
                    key,
                    .interrupted,
                    reason: message,
                    feedback: Feedback.interrupted(message),
                    criteriaPassed: nil,
                    release: last
                )
                fatal = message
            }
        }
        if let winner, case .passed(let commit, let criteria, _)? = round.results[winner] {
            try await verified(MergeCandidate(key: winner, commit: commit, criteriaPassed: criteria), group: &group)
        }
    }

    /// Ranks the passing candidates a crash left queued, by group, best first; only groups with more than one.
    ///
    /// A held candidate is queued in the ledger as soon as its gate passed, so a round cut short between two gates
    /// leaves several. Their review scores are read back from the `review.scored` events.
    static func rankQueued(
        _ queued: [AttemptRecord],
        mission: MissionID,
        ledger: any MissionLedger
    ) async throws -> [[SpeculationCandidate]] {
        let rounds = Dictionary(grouping: queued, by: \.key.group).values.filter { $0.count > 1 }
        guard !rounds.isEmpty else { return [] }
        var scores: [AttemptKey: Int] = [:]
        var after: Int64 = 0
        while true {
            let page = try await ledger.events(of: mission, after: after, limit: 500)
            for event in page where event.kind == .reviewScored {
                guard let group = event.group, let number = event.attempt,
                    case .number(let score)? = event.data["score"]
                else { continue }
                scores[AttemptKey(group: group, number: number)] = Int(score)
            }
            guard let last = page.last else { break }
            after = last.id
        }
        return rounds.map { attempts in
            SpeculationCandidate.ranked(
                attempts.map { attempt in
                    SpeculationCandidate(
                        key: attempt.key,
                        passed: true,
                        criteriaPassed: attempt.criteriaPassed,
                        reviewScore: scores[attempt.key],
                        diffLines: attempt.diff.map { $0.insertions + $0.deletions } ?? 0,
                        costUSD: attempt.usage.costUSD
                    )
                }
            )
        }
        .sorted { $0[0].key.group < $1[0].key.group }
    }

    /// Ends the passing candidates of rounds a crash cut short that ranked below another, as ``settle(_:group:)`` would
    /// have, and records the ranking.
    mutating func endOutrankedCandidates() async throws {
        for round in cutShortRounds {
            try await context.record(.speculationRanked(group: round[0].key.group, round), mission: spec.id)
            for loser in round.dropFirst() {
                let lost = loser.lostBecause ?? "outranked"
                try await conclude(
                    loser.key,
                    .rejected,
                    reason: lost,
                    feedback: Self.outrankedFeedback(lost),
                    criteriaPassed: loser.criteriaPassed,
                    countsTowardsStall: false,
                    release: false
                )
            }
        }
        cutShortRounds = []
    }

    /// Ends the candidates still held when the mission stops: every attempt's end is in the ledger.
    mutating func interruptHeldCandidates(_ reason: StopReason) async throws {
        let held = rounds.values.flatMap { round in round.keys.filter { round.results[$0] != nil } }
        rounds = [:]
        for key in held { try await interrupt(key, because: "the mission stopped (\(reason.rawValue))") }
    }
}
