import FlotillaCore
import Foundation

/// Which groups run when, in which agent slot, and what an attempt's end does to its group: the frontier, the
/// breakers, the stall rule and the feedback each next attempt is told.
struct Scheduling: LoopCapability {
    static let recentLandingsInPrompt = 20

    let layout: MissionLayout
    /// How sessions are confined, for each attempt's record.
    let sandbox: String?
    let stallRule: StallRule
    var progress: MissionProgress
    var freeSlots: [Int]
    var running: [AttemptKey: Int] = [:]
    var attemptsStarted: Int
    /// What each group's next attempt is told about the earlier ones.
    var feedback: [String: [AttemptFeedback]]
    /// Files groups are expected to touch (`--avoid-overlap`, on by default): `Files:` lines, then conflicts seen.
    var footprints: Footprints?
    var tripped: BreakerTrip?
    /// Groups' own attempt budgets (`Attempts: N`): a group whose Nth attempt did not land is blocked.
    var budgets: [String: Int] = [:]
    /// `flotilla step`'s allowance, in attempts started in all.
    var pauseAfterAttempts: Int?
    /// Each group's best metric figures, from its gates: a metric that improves on its best is progress.
    var metricBests: [String: MetricBests] = [:]

    var inFlight: Int { running.count }
    var heldGroups: [String] { running.keys.map(\.group) }

    /// The next move, with a breaker that tripped just now (to record).
    mutating func decide(
        _ view: LoopView,
        elapsed: Duration,
        totals: (inFlight: Int, held: [String], holdsDispatch: Bool)
    ) -> (NextStep, newlyTripped: BreakerTrip?) {
        // While a rate-limit wait runs no slot is free, and the wait is work in flight, unless nothing is left to
        // dispatch anyway.
        let holding = totals.holdsDispatch && tripped == nil && !progress.allDone
        var context = DispatchContext(
            idleSlots: holding ? 0 : freeSlots.count,
            inFlight: totals.inFlight + (holding ? 1 : 0),
            runningAttempts: running.count,
            spentUSD: view.spentUSD,
            estimatedAttemptUSD: view.estimatedAttemptUSD,
            attemptsStarted: attemptsStarted,
            elapsed: elapsed,
            limits: view.spec.limits,
            stopRequested: view.stopRequested,
            tripped: tripped
        )
        context.dailyCost = view.dailyCost
        context.footprints = footprints
        context.pauseAfterAttempts = pauseAfterAttempts
        // Verified work not landed yet counts too: a group started now begins from before it lands.
        context.runningGroups = totals.held
        let (step, trip) = Dispatcher.next(progress, context)
        guard let trip, tripped == nil else { return (step, nil) }
        tripped = trip
        return (step, trip)
    }

    /// Whether an attempt of `group` can start now, and the plan the other capabilities shape.
    func plan(_ group: String, from head: String) -> DispatchPlan? {
        guard let state = progress[group], !freeSlots.isEmpty else { return nil }
        return DispatchPlan(group: group, firstNumber: state.attempts + 1, startCommit: head)
    }

    mutating func on(_ event: LoopEvent, _ view: LoopView) -> [LoopAction] {
        switch event {
        case .dispatching(let plan):
            progress.claim(plan.group, attempts: plan.width)
            return plan.keys.enumerated().flatMap { index, key in
                start(key, of: plan, hint: plan.width > 1 ? ApproachHints.hint(index, of: plan.width) : nil, view)
            }
        case .attemptUpdate(let key, let update):
            return [.record(update.change(for: key), checkpoint: update.checkpoint)]
        case .attemptEnded(let plan, let result):
            running[plan.key] = nil
            freeSlots.append(plan.slot)
            freeSlots.sort()
            var actions: [LoopAction] = [.mark(.slotFree(plan.slot))]
            if let reason = view.stopping {
                // Even an attempt whose gate passed just now will not land: the mission is over.
                actions.append(.conclude(plan.key, .interrupted(Feedback.stopped(reason))))
            } else {
                actions.append(.notify(.attemptResult(plan, result)))
            }
            return actions
        case .attemptResult(let plan, let result):
            return route(plan, result)
        case .conclude(let key, let ending):
            return conclude(key, ending)
        case .landed(let keys, _):
            return keys.flatMap { key in
                [.mark(.ready(progress.markDone(key.group))), .mark(.concluded(key))]
            }
        case .conflicted(let group, let files):
            footprints?.learn(group, touched: files)
            return []
        case .groupsAdded(let groups):
            progress = MissionProgress(
                progress.groups + groups.map { GroupProgress(id: $0.id, dependsOn: $0.dependsOn) }
            )
            for group in groups where !group.files.isEmpty { footprints?.learn(group.id, touched: group.files) }
            return [.mark(.ready(progress.frontier))]
        default:
            return []
        }
    }

    /// Starts one attempt in the first free slot.
    private mutating func start(
        _ key: AttemptKey,
        of plan: DispatchPlan,
        hint: String?,
        _ view: LoopView
    ) -> [LoopAction] {
        let spec = view.spec
        guard let state = progress[key.group], let group = spec.checklist.group(key.group), !freeSlots.isEmpty
        else { return [] }
        let slot = freeSlots.removeFirst()
        attemptsStarted += 1
        running[key] = slot
        let check = spec.check(of: key.group)
        // The prompt names what matters to this group — its dependencies — and the latest landings; the rest is
        // counted, so that prompts stay short in missions with many groups.
        let shownDone =
            group.dependsOn
            + progress.recentlyDone(limit: Self.recentLandingsInPrompt).filter { !group.dependsOn.contains($0) }
            .prefix(max(0, Self.recentLandingsInPrompt - group.dependsOn.count))
        var brief = AttemptBrief(
            mission: spec.id,
            goal: spec.goal,
            group: group,
            attempt: key.number,
            doneGroups: shownDone.compactMap { id in spec.checklist.group(id).map { (id, $0.title) } },
            moreDoneGroups: max(0, progress.doneCount - shownDone.count),
            protectedPatterns: spec.protectedPatterns,
            checkCommand: check.command,
            checkGroups: check.groups,
            feedback: feedback[key.group] ?? [],
            escalation: state.escalation,
            testsProtected: spec.options.allowTestEdits != true
        )
        brief.approach = hint
        let lease = spec.limits.attemptTimeout + spec.options.verifyTimeout * 2 + .seconds(300)
        var start = AttemptStart(
            key: key,
            sequence: attemptsStarted,
            slot: slot,
            backend: spec.backend,
            startCommit: plan.startCommit,
            branch: MissionLayout.attemptBranch(spec.id, key),
            worktree: layout.slotWorktree(spec.id, slot),
            promptPath: layout.prompt(spec.id, key),
            transcriptPath: layout.transcript(spec.id, key),
            claimExpiresAt: view.now.addingTimeInterval(lease.seconds),
            sandbox: sandbox
        )
        start.roundSize = plan.width
        // The rest of the budget, less what the sessions already running are expected to spend.
        let others = Double(running.count - 1) * view.estimatedAttemptUSD
        let budgets = [
            spec.limits.maxCostUSD.map { max(0, $0 - view.spentUSD - others) },
            view.dailyCost.map { max(0, $0.remaining(after: view.spentUSD) - others) },
        ]
        let budget = budgets.compactMap { $0 }.min()
        return [
            .mark(.dispatched(key, slot: slot)),
            .record(.attemptStarted(start), checkpoint: "attempt.recorded"),
            .spawn(
                AttemptWork(
                    plan: AttemptPlan(
                        mission: spec.id,
                        key: key,
                        slot: slot,
                        startCommit: plan.startCommit,
                        prompt: AttemptPrompt.render(brief),
                        budgetUSD: budget
                    )
                )
            ),
        ]
    }

    /// What an attempt's verdict does, when no round holds it back.
    private func route(_ plan: AttemptPlan, _ result: AttemptResult) -> [LoopAction] {
        let key = plan.key
        let criteria = result.evidence.criteria
        switch result.verdict {
        case .passed:
            let candidate = MergeCandidate(
                key: key,
                commit: result.evidence.commit ?? plan.startCommit,
                criteria: criteria,
                startCommit: plan.startCommit,
                held: result.evidence.held
            )
            return [.notify(.verified(candidate))]
        case .failed(let outcome, let reason, let feedback):
            return [
                .conclude(
                    key,
                    AttemptEnding(
                        outcome: outcome,
                        reason: reason,
                        feedback: feedback,
                        criteria: criteria,
                        figures: result.evidence.figures ?? []
                    )
                )
            ]
        case .rateLimited(let reason, let feedback, _, _):
            let ending = AttemptEnding(
                outcome: .agentFailed,
                reason: reason,
                feedback: feedback,
                countsTowardsStall: false
            )
            return [.conclude(key, ending)]
        case .cancelled:
            return [.conclude(key, .interrupted("the mission stopped"))]
        case .error(let message):
            return [.conclude(key, .interrupted(message)), .fail(message)]
        }
    }

    /// Ends an attempt that did not land: feedback for the next one, the stall rule, blocking.
    private mutating func conclude(_ key: AttemptKey, _ ending: AttemptEnding) -> [LoopAction] {
        guard let group = progress[key.group] else { return [] }
        var actions: [LoopAction] = []
        var assessment: StallAssessment?
        var status = GroupStatus.pending
        var blockedDependents: [String] = []
        if ending.outcome == .disputed {
            // The agent says the criterion cannot be met as written: a person decides, not the stall rule.
            status = .blocked
            blockedDependents = progress.block(key.group)
        } else if ending.outcome != .interrupted && ending.countsTowardsStall {
            let improved = metricBests[key.group]?.record(ending.figures) ?? []
            let verdict = stallRule.assess(
                group,
                outcome: ending.outcome,
                criteria: ending.criteria,
                metricImproved: !improved.isEmpty
            )
            assessment = verdict
            progress.update(key.group, with: verdict)
            if verdict.block {
                status = .blocked
                blockedDependents = progress.block(key.group)
            }
        }
        if status == .pending, ending.countsTowardsStall, let budget = budgets[key.group], key.number >= budget {
            status = .blocked
            blockedDependents = progress.block(key.group)
        }
        if status == .pending && ending.release {
            progress.release(key.group)
            actions.append(.mark(.ready([key.group])))
        } else if status == .pending {
            // Another candidate of its best-of-N round goes on: the group stays claimed.
            status = .active
        }
        actions.append(.mark(.concluded(key)))
        feedback[key.group, default: []].append(
            AttemptFeedback(attempt: key.number, outcome: ending.outcome, text: ending.feedback)
        )
        let conclusion = AttemptConclusion(
            key: key,
            outcome: ending.outcome,
            reason: ending.reason,
            feedback: ending.feedback,
            stall: assessment,
            groupStatus: status,
            blockedDependents: blockedDependents,
            verification: ending.verification,
            criteria: ending.criteria
        )
        actions.append(.record(.attemptFailed(conclusion), checkpoint: "attempt.concluded"))
        return actions
    }
}

extension MissionSpec {
    /// The command that judges `group` (its own `Check:`, else the verify command) and the `FLOTILLA_GROUPS` it
    /// gets, as prompts say it.
    func check(of group: String) -> (command: String, groups: String) {
        (checklist.group(group)?.check ?? verifyCommand ?? "", group)
    }
}

extension Scheduling {
    init(_ snapshot: MissionSnapshot) {
        let spec = snapshot.spec
        var feedback: [String: [AttemptFeedback]] = [:]
        for attempt in snapshot.attempts {
            guard let outcome = attempt.outcome, outcome != .landed, let text = attempt.feedback else { continue }
            feedback[attempt.key.group, default: []].append(
                AttemptFeedback(attempt: attempt.key.number, outcome: outcome, text: text)
            )
        }
        self.init(
            layout: snapshot.layout,
            sandbox: snapshot.sandbox.summary,
            stallRule: StallRule(threshold: spec.limits.stallThreshold),
            progress: MissionProgress(snapshot.groups.map(\.progress)),
            freeSlots: Array(1...max(1, spec.agents)),
            attemptsStarted: snapshot.attempts.count,
            feedback: feedback,
            footprints: spec.options.avoidOverlap == false ? nil : Footprints(spec.checklist)
        )
        pauseAfterAttempts = snapshot.pauseAfterAttempts
        for group in spec.checklist.groups where !group.typedCriteria.isEmpty {
            var bests = MetricBests(group)
            for verification in snapshot.gates where verification.attempt?.group == group.id {
                bests.record(verification.criterionResults.filter { $0.group == group.id })
            }
            metricBests[group.id] = bests
        }
        budgets = Dictionary(spec.checklist.groups.compactMap { group in group.attempts.map { (group.id, $0) } }) {
            $1
        }
    }
}
