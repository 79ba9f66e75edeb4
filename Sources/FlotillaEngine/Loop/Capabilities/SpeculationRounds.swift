import FlotillaCore
import Foundation

/// Best of N (`Speculate: N`, `--speculate N`): N candidates of a group run at once, each told its own approach; once
/// all are in, the passing ones are ranked, the best goes on to land and the others are recorded with why they lost.
struct SpeculationRounds: LoopCapability {
    /// The candidates of one round, and the results in so far.
    struct Round: Sendable {
        let keys: [AttemptKey]
        var results: [AttemptKey: (plan: AttemptPlan, result: AttemptResult)] = [:]

        var complete: Bool { results.count == keys.count }
    }

    /// Rounds under way, by group.
    var rounds: [String: Round] = [:]
    /// Rounds a crash cut short with several passing candidates queued, ranked when the mission was read back: the best
    /// goes on, the others end with why they lost when the run begins.
    var cutShort: [[SpeculationCandidate]] = []

    mutating func begin(_ view: LoopView) -> [LoopAction] {
        defer { cutShort = [] }
        return cutShort.flatMap { round -> [LoopAction] in
            [.record(.speculationRanked(group: round[0].key.group, round))]
                + round.dropFirst().map { loser in
                    let lost = loser.lostBecause ?? "outranked"
                    return .conclude(loser.key, Self.outranked(lost, loser.criteria))
                }
        }
    }

    /// How many candidates the group's next attempt runs as: its `Speculate:` line, or `--speculate` once it has failed
    /// twice; never more than the free slots, the attempts the limit leaves or what the budget affords.
    func shape(_ plan: inout DispatchPlan, _ view: LoopView) {
        let spec = view.spec
        let failed = plan.firstNumber - 1
        var width = spec.checklist.group(plan.group)?.speculate ?? (failed >= 2 ? spec.options.speculate ?? 1 : 1)
        width = min(width, view.freeSlots)
        if let limit = spec.limits.maxAttempts { width = min(width, limit - view.attemptsStarted) }
        // No more candidates than the budget affords, beside what runs (the dispatcher checked the first one).
        let estimate = view.estimatedAttemptUSD
        if let budget = spec.limits.maxCostUSD, estimate > 0 {
            let left = budget - view.spentUSD - Double(view.runningAttempts.count) * estimate
            let affordable = left / estimate
            if !(affordable >= Double(width)) { width = affordable.isFinite && affordable > 1 ? Int(affordable) : 1 }
        }
        plan.width = max(1, width)
    }

    mutating func on(_ event: LoopEvent, _ view: LoopView) -> [LoopAction] {
        guard case .dispatching(let plan) = event, plan.width > 1 else { return [] }
        rounds[plan.group] = Round(keys: plan.keys)
        return []
    }

    /// Holds a candidate's result until its round is complete, then settles the round.
    mutating func take(_ plan: AttemptPlan, _ result: AttemptResult, _ view: LoopView) -> [LoopAction]? {
        let group = plan.key.group
        guard var round = rounds[group], round.keys.contains(plan.key) else { return nil }
        round.results[plan.key] = (plan, result)
        guard round.complete else {
            rounds[group] = round
            return []
        }
        rounds[group] = nil
        return settle(round)
    }

    /// The mission stops: the candidates held back end.
    mutating func stop(_ reason: StopReason, _ view: LoopView) -> [LoopAction] {
        let held = rounds.values.flatMap { round in round.keys.filter { round.results[$0] != nil } }
        rounds = [:]
        return held.map { .conclude($0, .interrupted(Feedback.stopped(reason))) }
    }

    /// Ranks a complete round: the best passing candidate goes on as a verified one; the rest end, holding the group
    /// only when no candidate passed (and then counting once towards the stall rule).
    private func settle(_ round: Round) -> [LoopAction] {
        var candidates: [SpeculationCandidate] = []
        for key in round.keys {
            guard let (_, result) = round.results[key] else { continue }
            var candidate = SpeculationCandidate(
                key: key,
                passed: false,
                diffLines: result.evidence.diffLines,
                costUSD: result.evidence.costUSD
            )
            switch result.verdict {
            case .passed:
                candidate.passed = true
                candidate.criteria = result.evidence.criteria
                candidate.reviewScore = result.evidence.reviewScore
            case .failed(let outcome, let reason, _):
                candidate.lostBecause = "\(outcome.rawValue): \(reason)"
            default:
                candidate.lostBecause = "did not finish"
            }
            candidates.append(candidate)
        }
        let ranked = SpeculationCandidate.ranked(candidates)
        let ordered = ranked + candidates.filter { !$0.passed }
        var actions: [LoopAction] = [.record(.speculationRanked(group: round.keys[0].group, ordered))]

        let winner = ranked.first?.key
        let ending = round.keys.filter { $0 != winner }
        for (index, key) in ending.enumerated() {
            // With a winner the group stays claimed (it lands next); without one, the last ending frees it.
            let last = winner == nil && index == ending.count - 1
            guard let (_, result) = round.results[key] else { continue }
            let criteria = result.evidence.criteria
            var conclusion: AttemptEnding
            switch result.verdict {
            case .passed:
                let lost = ordered.first { $0.key == key }?.lostBecause ?? "outranked"
                actions.append(.conclude(key, Self.outranked(lost, criteria)))
                continue
            case .failed(let outcome, let reason, let feedback):
                conclusion = AttemptEnding(outcome: outcome, reason: reason, feedback: feedback, criteria: criteria)
                conclusion.figures = result.evidence.figures ?? []
                conclusion.countsTowardsStall = last
            case .rateLimited(let reason, let feedback, _, _):
                conclusion = AttemptEnding(
                    outcome: .agentFailed,
                    reason: reason,
                    feedback: feedback,
                    countsTowardsStall: false
                )
            case .cancelled:
                conclusion = .interrupted("the mission stopped")
            case .error(let message):
                conclusion = .interrupted(message)
            }
            conclusion.release = last
            actions.append(.conclude(key, conclusion))
            if case .error(let message) = result.verdict { actions.append(.fail(message)) }
        }
        if let winner, let (plan, result) = round.results[winner] {
            let candidate = MergeCandidate(
                key: winner,
                commit: result.evidence.commit ?? plan.startCommit,
                criteria: result.evidence.criteria,
                startCommit: plan.startCommit,
                held: result.evidence.held
            )
            actions.append(.notify(.verified(candidate)))
        }
        return actions
    }

    /// A candidate that passed its gate and lost the ranking: the group stays with the winner.
    static func outranked(_ lost: String, _ criteria: CriteriaScore?) -> AttemptEnding {
        AttemptEnding(
            outcome: .rejected,
            reason: lost,
            feedback: Feedback.outranked(lost),
            criteria: criteria,
            countsTowardsStall: false,
            release: false
        )
    }
}
