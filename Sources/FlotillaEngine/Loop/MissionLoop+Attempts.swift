import FlotillaCore
import Foundation

/// Attempts: dispatching them and recording how they end.
extension MissionLoop {
    mutating func dispatch(
        _ groupID: String,
        into group: inout ThrowingTaskGroup<LoopSignal, any Error>
    ) async throws {
        guard let checklistGroup = spec.checklist.group(groupID), let state = progress[groupID], !freeSlots.isEmpty
        else { return }
        let width = speculationWidth(checklistGroup, failedAttempts: state.attempts)
        progress.claim(groupID, attempts: width)
        // A fixup starts from the merge that failed integration; every other attempt from the target head.
        let fixupBase = fixupBases.removeValue(forKey: groupID)
        let from = fixupBase ?? targetHead
        if fixupBase != nil {
            for number in 1...width {
                fixupAttempts.insert(AttemptKey(group: groupID, number: state.attempts + number))
            }
        }
        guard width > 1 else {
            try await start(
                AttemptKey(group: groupID, number: state.attempts + 1),
                of: checklistGroup,
                from: from,
                into: &group
            )
            return
        }
        let keys = (1...width).map { AttemptKey(group: groupID, number: state.attempts + $0) }
        rounds[groupID] = SpeculativeRound(keys: keys)
        for (index, key) in keys.enumerated() {
            try await start(
                key,
                of: checklistGroup,
                from: from,
                hint: Self.approachHint(index, of: width),
                roundSize: width,
                into: &group
            )
        }
    }

    /// Starts one attempt in the first free slot; `hint` (best of N) tells candidates of one round apart.
    mutating func start(
        _ key: AttemptKey,
        of checklistGroup: ChecklistGroup,
        from startCommit: String,
        hint: String? = nil,
        roundSize: Int = 1,
        into group: inout ThrowingTaskGroup<LoopSignal, any Error>
    ) async throws {
        guard let state = progress[key.group], !freeSlots.isEmpty else { return }
        let groupID = key.group
        let slot = freeSlots.removeFirst()
        context.probe?.mark(.dispatched(key, slot: slot))
        attemptsStarted += 1
        running[key] = slot
        ranSinceRefCheck.append(key)
        let check = context.gate.description(of: groupID)
        // The prompt names what matters to this group — its dependencies — and the latest landings; the rest
        // is counted, so that prompts stay short in missions with many groups.
        let shownDone =
            checklistGroup.dependsOn
            + progress.recentlyDone(limit: Self.recentLandingsInPrompt).filter {
                !checklistGroup.dependsOn.contains($0)
            }
            .prefix(max(0, Self.recentLandingsInPrompt - checklistGroup.dependsOn.count))
        var brief = AttemptBrief(
            mission: spec.id,
            goal: spec.goal,
            group: checklistGroup,
            attempt: key.number,
            doneGroups: shownDone.compactMap { id in spec.checklist.group(id).map { (id, $0.title) } },
            moreDoneGroups: max(0, progress.doneCount - shownDone.count),
            protectedPatterns: spec.protectedPatterns,
            checkCommand: check.command,
            checkGroups: check.groups,
            feedback: feedback[groupID] ?? [],
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
            startCommit: startCommit,
            branch: MissionLayout.attemptBranch(spec.id, key),
            worktree: context.layout.slotWorktree(spec.id, slot),
            promptPath: context.layout.prompt(spec.id, key),
            transcriptPath: context.layout.transcript(spec.id, key),
            claimExpiresAt: context.now().addingTimeInterval(lease.seconds),
            sandbox: options.sandbox.summary
        )
        start.roundSize = roundSize
        try await context.record(.attemptStarted(start), mission: spec.id)
        context.probe?.mark(.checkpoint("attempt.recorded"))
        let execution = AttemptExecution(
            mission: spec,
            key: key,
            slot: slot,
            startCommit: startCommit,
            prompt: AttemptPrompt.render(brief),
            context: context,
            // The rest of the budget, less what the sessions already running are expected to spend.
            budgetUSD: spec.limits.maxCostUSD.map {
                max(0, $0 - spentUSD - Double(running.count - 1) * estimator.estimateUSD)
            }
        )
        group.addTask {
            let (result, cost) = await AttemptContext.$current.withValue([key]) { await execution.run() }
            return .attemptEnded(key, slot: slot, result, costUSD: cost)
        }
    }

    /// Ends an attempt that neither failed nor landed: the mission stopped, or Flotilla could not go on.
    mutating func interrupt(_ key: AttemptKey, because reason: String) async throws {
        try await conclude(
            key,
            .interrupted,
            reason: reason,
            feedback: Feedback.interrupted(reason),
            criteriaPassed: nil
        )
    }

    /// Ends an attempt that did not land: feedback for the next one, the stall rule, blocking.
    mutating func conclude(
        _ key: AttemptKey,
        _ outcome: AttemptOutcome,
        reason: String,
        feedback text: String,
        criteriaPassed: Int?,
        verification: Verification? = nil,
        countsTowardsStall: Bool = true,
        release: Bool = true
    ) async throws {
        guard let group = progress[key.group] else { return }
        var assessment: StallAssessment?
        var status = GroupStatus.pending
        var blockedDependents: [String] = []
        if outcome != .interrupted && countsTowardsStall {
            let verdict = stallRule.assess(group, outcome: outcome, criteriaPassed: criteriaPassed)
            assessment = verdict
            progress.update(key.group, with: verdict)
            if verdict.block {
                status = .blocked
                blockedDependents = progress.block(key.group)
            }
        }
        if status == .pending && release {
            progress.release(key.group)
            context.probe?.mark(.ready([key.group]))
        } else if status == .pending {
            // Another candidate of its best-of-N round goes on: the group stays claimed.
            status = .active
        }
        context.probe?.mark(.concluded(key))
        feedback[key.group, default: []].append(AttemptFeedback(attempt: key.number, outcome: outcome, text: text))
        try await context.record(
            .attemptFailed(
                AttemptConclusion(
                    key: key,
                    outcome: outcome,
                    reason: reason,
                    feedback: text,
                    stall: assessment,
                    groupStatus: status,
                    blockedDependents: blockedDependents,
                    verification: verification,
                    criteriaPassed: criteriaPassed
                )
            ),
            mission: spec.id
        )
        context.probe?.mark(.checkpoint("attempt.concluded"))
    }

    mutating func finishInterrupted(_ signal: LoopSignal, reason: StopReason) async throws {
        switch signal {
        case .attemptEnded(let key, _, _, let cost):
            // Even an attempt whose gate passed just now will not land: the mission is over.
            running[key] = nil
            spentUSD += cost
            try await interrupt(key, because: "the mission stopped (\(reason.rawValue))")
        case .mergeEnded(var round):
            // A landing that completed stays landed; anything else of the round is interrupted.
            if case .landed = round.outcome {
                for candidate in round.deferred {
                    try await interrupt(candidate.key, because: "the mission stopped (\(reason.rawValue))")
                }
                round.deferred = []
                try await finish(round)
            } else {
                queue.finish(.abandoned)
                for candidate in round.included + round.deferred {
                    try await interrupt(candidate.key, because: "the mission stopped (\(reason.rawValue))")
                }
                for (candidate, _, _) in round.conflicts {
                    try await interrupt(candidate.key, because: "the mission stopped (\(reason.rawValue))")
                }
            }
        case .pushEnded(let attempt):
            pushing = false
            try await recordPush(attempt)
        case .stopRequested, .wallClockExpired, .backoffEnded, .approvalsDue:
            break
        }
    }

    // MARK: - Verification and the end
}
