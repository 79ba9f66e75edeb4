import Foundation

extension LedgerChange {
    /// The event that records this change.
    package func event(mission: MissionID, at: Date) -> MissionEvent {
        func make(
            _ kind: EventKind,
            _ key: AttemptKey?,
            _ message: String,
            _ payload: some EventPayload
        ) -> MissionEvent {
            MissionEvent(
                mission: mission,
                at: at,
                kind: kind,
                group: key?.group,
                attempt: key?.number,
                message: message,
                data: JSONValue.fields(of: payload)
            )
        }
        switch self {
        case .missionCreated(let spec):
            return make(
                .missionCreated,
                nil,
                "mission \(spec.id) created: \"\(spec.goal)\" — \(spec.checklist.groups.count) "
                    + (spec.checklist.groups.count == 1 ? "group, " : "groups, ")
                    + "target \(spec.targetBranch) from \(spec.baseCommit.shortSHA)",
                MissionEvent.MissionCreated(
                    goal: spec.goal,
                    baseCommit: spec.baseCommit,
                    targetBranch: spec.targetBranch,
                    groups: spec.checklist.groups.count
                )
            )
        case .missionStarted(let agents, let backend, let runner, let resumed, let sandbox):
            return make(
                .missionStarted,
                nil,
                "mission \(resumed ? "resumed" : "started") with \(agents) agent\(agents == 1 ? "" : "s") (\(backend))"
                    + (runner.map { " in process \($0.pid)" } ?? "") + (sandbox.map { "; sandbox: \($0)" } ?? ""),
                MissionEvent.MissionStarted(
                    agents: agents,
                    backend: backend,
                    resumed: resumed,
                    runnerPID: runner?.pid,
                    sandbox: sandbox
                )
            )
        case .landingVerified(let keys, let commit, let regression):
            return make(
                .landingVerified,
                keys.count == 1 ? keys[0] : nil,
                "\(keys.list) verified as \(commit.shortSHA) (regression verify passed in "
                    + "\(regression.duration.shortDescription))",
                MissionEvent.LandingVerified(regression: MissionEvent.Verified(regression), attempts: keys.names)
            )
        case .groupsApproved(let groups):
            return make(
                .groupsApproved,
                nil,
                "approved: \(groups.joined(separator: ", ")) may be attempted again",
                MissionEvent.GroupsApproved(groups: groups)
            )
        case .recovered(let actions):
            return make(
                .missionRecovered,
                nil,
                "recovered: " + (actions.isEmpty ? "nothing to repair" : actions.joined(separator: "; ")),
                MissionEvent.Recovered(actions: actions)
            )
        case .attemptStarted(let start):
            return make(
                .attemptStarted,
                start.key,
                "\(start.key) started on agent \(start.slot) from \(start.startCommit.shortSHA)",
                MissionEvent.AttemptStarted(
                    slot: start.slot,
                    sequence: start.sequence,
                    startCommit: start.startCommit,
                    branch: start.branch,
                    sandbox: start.sandbox
                )
            )
        case .agentFinished(let key, let report):
            var message = "\(key) agent " + (report.backend.map { "(\($0)) " } ?? "")
            if report.timedOut {
                message += "timed out after \(report.duration.shortDescription)"
            } else if let failure = report.failure {
                message += "failed after \(report.duration.shortDescription): \(failure)"
            } else {
                let status = report.exitCode.map { "exit \($0)" } ?? report.signal.map { "signal \($0)" } ?? "ended"
                message += "finished in \(report.duration.shortDescription) (\(status))"
            }
            if report.usage.costUSD > 0 { message += ", \(formatUSD(report.usage.costUSD))" }
            let payload = MissionEvent.AgentFinished(
                durationMS: report.duration.milliseconds,
                costUSD: report.usage.costUSD,
                timedOut: report.timedOut,
                inputTokens: report.usage.inputTokens,
                outputTokens: report.usage.outputTokens,
                exitCode: report.exitCode,
                failure: report.failure,
                backend: report.backend
            )
            return make(.agentFinished, key, message, payload)
        case .attemptCommitted(let key, let commit, let diff):
            guard let commit else {
                return make(.attemptCommitted, key, "\(key) made no changes", MissionEvent.AttemptCommitted())
            }
            let payload = MissionEvent.AttemptCommitted(
                commit: commit,
                files: diff?.files,
                insertions: diff?.insertions,
                deletions: diff?.deletions
            )
            return make(
                .attemptCommitted,
                key,
                "\(key) committed \(commit.shortSHA)" + (diff.map { " (\($0.description))" } ?? ""),
                payload
            )
        case .gateFinished(let verification, _):
            let key = verification.attempt
            let label = key.map { "\($0) " } ?? ""
            let verdict = verification.passed ? "passed" : verification.timedOut ? "timed out" : "failed"
            let exit = verification.passed ? "" : verification.exitCode.map { " (exit \($0))" } ?? ""
            return make(
                verification.passed ? .gatePassed : .gateFailed,
                key,
                "\(label)gate \(verdict) in \(verification.duration.shortDescription)\(exit)",
                MissionEvent.Verified(verification)
            )
        case .mergeStarted(let keys, let targetHead):
            return make(
                .mergeStarted,
                keys.count == 1 ? keys[0] : nil,
                "\(keys.list) merging onto \(targetHead.shortSHA)" + (keys.count > 1 ? " (one landing)" : ""),
                MissionEvent.MergeStarted(targetHead: targetHead, attempts: keys.names)
            )
        case .attemptsLanded(let keys, let landedCommit, let regression):
            return make(
                .attemptLanded,
                keys.count == 1 ? keys[0] : nil,
                "\(keys.list) landed \(keys.count > 1 ? "together " : "")as \(landedCommit.shortSHA)",
                MissionEvent.AttemptLanded(
                    regression: MissionEvent.Verified(regression),
                    landedCommit: landedCommit,
                    attempts: keys.names
                )
            )
        case .mergeRequeued(let keys, let reason, let verification):
            return make(
                .mergeRequeued,
                keys.count == 1 ? keys[0] : nil,
                "\(keys.list) back in the merge queue: \(reason)",
                MissionEvent.MergeRequeued(
                    verification: verification.map(MissionEvent.Verified.init),
                    attempts: keys.names,
                    reason: reason
                )
            )
        case .attemptFailed(let conclusion):
            var message =
                "\(conclusion.key) \(conclusion.outcome.rawValue.replacingOccurrences(of: "_", with: " ")): "
                + conclusion.reason
            var payload = MissionEvent.AttemptFailed(
                outcome: conclusion.outcome,
                reason: conclusion.reason,
                groupStatus: conclusion.groupStatus,
                stalledAttempts: conclusion.stall?.stalledAttempts,
                escalation: conclusion.stall?.escalation
            )
            if conclusion.stall?.madeProgress == true { message += " (progress made)" }
            if conclusion.groupStatus == .blocked {
                message += " — group blocked"
                if !conclusion.blockedDependents.isEmpty {
                    message += " with its dependents \(conclusion.blockedDependents.joined(separator: ", "))"
                }
                payload.blockedDependents = conclusion.blockedDependents
            } else if let stall = conclusion.stall, stall.escalation == .strategyChange, stall.stalledAttempts == 0 {
                message += " — stalled, next prompt asks for a different strategy"
            }
            return make(.attemptFailed, conclusion.key, message, payload)
        case .breakerTripped(let trip):
            return make(
                .breakerTripped,
                nil,
                "breaker \(trip.reason.rawValue) tripped: \(trip.detail)",
                MissionEvent.BreakerTripped(reason: trip.reason, detail: trip.detail)
            )
        case .finalVerifyFinished(let verification):
            return make(
                .finalVerify,
                nil,
                "final verify \(verification.passed ? "passed" : "failed") on \(verification.commit.shortSHA) in "
                    + verification.duration.shortDescription,
                MissionEvent.Verified(verification)
            )
        case .missionFinished(let reason, let summary):
            return make(
                .missionFinished,
                nil,
                "mission \(reason.outcomeDescription): \(summary)",
                MissionEvent.MissionFinished(reason: reason, state: reason.missionState)
            )
        case .modelCalled(let call):
            let subject =
                call.role == .planner ? "planner" : "\(call.role.rawValue) on \(call.attempt.map(\.description) ?? "?")"
            let tokens = call.usage.inputTokens + call.usage.cacheReadTokens + call.usage.cacheWriteTokens
            var message = "\(subject): \(call.model) "
            message +=
                call.error.map { "gave no usable answer after \(call.duration.shortDescription): \($0)" }
                ?? "answered in \(call.duration.shortDescription), \(tokens) tokens in, \(call.usage.outputTokens) out"
            if call.usage.costUSD > 0 { message += ", \(formatUSD(call.usage.costUSD))" }
            let payload = MissionEvent.ModelCalled(
                role: call.role,
                model: call.model,
                inputTokens: call.usage.inputTokens,
                outputTokens: call.usage.outputTokens,
                costUSD: call.usage.costUSD,
                durationMS: call.duration.milliseconds,
                error: call.error
            )
            return make(.modelCalled, call.attempt, message, payload)
        case .refsRestored(let restorations, let reason):
            let list = restorations.map { "\($0.ref) from \($0.foreign.shortSHA) back to \($0.restoredTo.shortSHA)" }
            return make(
                .refsRestored,
                nil,
                "restored \(list.joined(separator: ", ")) (\(reason)); the foreign commits are kept under "
                    + restorations.map(\.quarantine).joined(separator: ", "),
                MissionEvent.RefsRestored(
                    reason: reason,
                    refs: restorations.map {
                        .init(ref: $0.ref, foreign: $0.foreign, restoredTo: $0.restoredTo, quarantine: $0.quarantine)
                    }
                )
            )
        case .testsBaseline(let baseline):
            let counts = baseline.tests.map(\.summary).joined(separator: "; ")
            return make(
                .testsBaseline,
                nil,
                "the verify's tests at the base: " + (counts.isEmpty ? "no test runner reported" : counts)
                    + "; every run of the verify must run and pass those that passed",
                MissionEvent.TestsBaseline(tests: baseline.tests)
            )
        case .probesBaseline(let figures):
            let list = figures.keys.sorted().map { "\($0) = \(CriteriaCascade.format(figures[$0] ?? 0))" }
            return make(
                .probesBaseline,
                nil,
                "the probes at the base: " + (list.isEmpty ? "no figure read" : list.joined(separator: ", ")),
                MissionEvent.ProbesBaseline(figures: figures)
            )
        case .stepAllowed(let attempts, let pauseAfter):
            return make(
                .missionStepped,
                nil,
                "a step of \(attempts) attempt\(attempts == 1 ? "" : "s"): the mission pauses once \(pauseAfter) have "
                    + "started in all",
                MissionEvent.MissionStepped(attempts: attempts, pauseAfterAttempts: pauseAfter)
            )
        case .criteriaChecked(let verification):
            let results = verification.criterionResults
            let met = results.filter { $0.status == .met }.count
            var message =
                "checked \(verification.commit.shortSHA): the verify \(verification.exitCode == 0 ? "passed" : "failed")"
            if !results.isEmpty { message += ", \(met) of \(results.count) typed criteria met" }
            if let reason = verification.criterionFailure { message += " (\(reason))" }
            return make(
                .criteriaChecked,
                nil,
                message,
                MissionEvent.CriteriaChecked(
                    commit: verification.commit,
                    groups: verification.groups,
                    passed: verification.passed,
                    results: results
                )
            )
        case .refsMoved(let moves, let during):
            let list = moves.map { move in
                "\(move.ref) \(move.from.map(\.shortSHA) ?? "(new)") → \(move.to.map(\.shortSHA) ?? "(deleted)")"
            }
            return make(
                .refsMoved,
                during.count == 1 ? during[0] : nil,
                "your refs changed while \(during.isEmpty ? "agents" : during.list) ran without a sandbox: "
                    + list.joined(separator: ", ")
                    + "; if you did not change them, an agent did (see docs/SECURITY.md)",
                MissionEvent.RefsMoved(
                    attempts: during.names,
                    refs: moves.map { .init(ref: $0.ref, from: $0.from, to: $0.to) }
                )
            )
        case .crashNoticed(let crash):
            let payload = MissionEvent.MissionCrashed(
                runnerPID: crash.runner.pid,
                runnerStartTicks: crash.runner.startTicks,
                delayMS: crash.delay.milliseconds,
                limit: crash.limit,
                restart: crash.restart
            )
            let died = "its process \(crash.runner.pid) died without finishing the mission"
            return make(
                .missionCrashed,
                nil,
                crash.restart.map {
                    "\(died); restarting it (\($0) of \(crash.limit)) in \(crash.delay.shortDescription)"
                }
                    ?? "\(died) after \(crash.limit) restarts in a row; not restarting it again: read its log, then "
                    + "`flotilla resume \(mission)`",
                payload
            )
        case .reviewed(let key, let verdict):
            let payload = MissionEvent.ReviewScored(
                threshold: verdict.threshold,
                blocks: verdict.blocks,
                summary: verdict.summary,
                concerns: verdict.concerns,
                score: verdict.score
            )
            let said =
                verdict.score.map {
                    "scored \($0)/10" + (verdict.blocks ? " (needs \(verdict.threshold)): sent back" : "")
                }
                ?? "gave no usable review (\(verdict.summary)); blocking nothing"
            return make(
                .reviewScored,
                key,
                "review of \(key) \(said)" + (verdict.score == nil ? "" : ": \(verdict.summary)"),
                payload
            )
        case .objectiveChecked(let verdict, let putToHuman):
            return objectiveEvent(verdict, putToHuman: putToHuman) { make($0, nil, $1, $2) }
        case .groupsAdded(let groups, _, let by):
            return make(
                .groupsAdded,
                nil,
                "\(by) added \(groups.count) group\(groups.count == 1 ? "" : "s"): "
                    + groups.map { "\($0.id) (\($0.title))" }.joined(separator: ", "),
                MissionEvent.GroupsAdded(groups: groups.map(\.id), by: by)
            )
        case .speculationRanked(let group, let candidates):
            return speculationEvent(group: group, candidates) { make($0, nil, $1, $2) }
        case .approvalRequested(let key, let question):
            let subject =
                switch (key, question) {
                case (let key?, let held?): "\(key) passed its gate, but \(held); its landing"
                case (nil, let question?): question
                case (let key?, nil): "\(key) passed its gate; its landing"
                case (nil, nil): "every group landed and verified; the mission"
                }
            let target = key.map { " --group \($0.group)" } ?? ""
            return make(
                .approvalRequested,
                key,
                "\(subject) waits for a human: `flotilla approve \(mission)\(target)`, or "
                    + "`flotilla reject \(mission)\(target) --reason \"…\"`",
                MissionEvent.ApprovalRequested(scope: key == nil ? .mission : .landing, question: question)
            )
        case .approvalDecided(let key, let decision):
            let payload = MissionEvent.ApprovalDecided(
                approved: decision.approved,
                by: decision.by,
                scope: key == nil ? .mission : .landing,
                reason: decision.reason
            )
            let subject = key.map { "landing of \($0)" } ?? "mission"
            return make(
                .approvalDecided,
                key,
                "\(subject) \(decision.approved ? "approved" : "rejected") by \(decision.by)"
                    + (decision.reason.map { ": \($0)" } ?? ""),
                payload
            )
        case .pushed(let push):
            let payload = MissionEvent.Pushed(
                remote: push.remote,
                branch: push.branch,
                commit: push.commit,
                expected: push.expected,
                refusal: push.refusal
            )
            guard let refusal = push.refusal else {
                return make(
                    .branchPushed,
                    nil,
                    "pushed \(push.branch) at \(push.commit.shortSHA) to \(push.remote)",
                    payload
                )
            }
            return make(
                .pushRefused,
                nil,
                "push of \(push.branch) at \(push.commit.shortSHA) to \(push.remote) refused: \(refusal); Flotilla never "
                    + "forces over work it did not push (it expected "
                    + (push.expected.map { "\($0.shortSHA)" } ?? "no such branch") + " there)",
                payload
            )
        case .landedOnto(let landing):
            let payload = MissionEvent.LandedOnto(
                branch: landing.branch,
                from: landing.from,
                how: landing.how,
                commit: landing.commit,
                refusal: landing.refusal
            )
            guard let refusal = landing.refusal else {
                return make(
                    .landedOnto,
                    nil,
                    "landed on \(landing.branch) (\(landing.how)): \(landing.from.shortSHA) → "
                        + (landing.commit?.shortSHA ?? "?") + ", verified",
                    payload
                )
            }
            return make(.landRefused, nil, "not landed on \(landing.branch): \(refusal)", payload)
        case .notificationTried(let attempt):
            let what = "notification \(attempt.target) (\(attempt.kind.rawValue)) of \(attempt.event)"
            let payload = MissionEvent.NotificationTried(
                notification: attempt.notification,
                target: attempt.target,
                targetKind: attempt.kind,
                event: attempt.event,
                number: attempt.number,
                attempts: attempt.attempts,
                error: attempt.error,
                retryAt: attempt.retryAt?.timeIntervalSince1970
            )
            guard let error = attempt.error else {
                return make(.notificationDelivered, nil, "\(what) delivered on try \(attempt.number)", payload)
            }
            let next =
                attempt.retryAt.map {
                    "trying again in \(Duration.seconds(bounded: $0.timeIntervalSince(at)).shortDescription)"
                }
                ?? "giving up after \(attempt.number) tries"
            return make(
                .notificationFailed,
                nil,
                "\(what) failed on try \(attempt.number) of \(attempt.attempts): \(error); \(next)",
                payload
            )
        case .testEditsReverted(let key, let paths):
            return make(
                .testEditsReverted,
                key,
                "\(key) edited existing tests, taken back before its gate: \(paths.joined(separator: ", "))",
                MissionEvent.TestEditsReverted(paths: paths)
            )
        case .newTestsDeferred(let key, let paths):
            return make(
                .newTestsDeferred,
                key,
                "\(key)'s gate ran without the tests it added, which run when it lands: \(paths.joined(separator: ", "))",
                MissionEvent.NewTestsDeferred(paths: paths)
            )
        case .toolSettingsRestored(let key, let paths):
            return make(
                .toolSettingsRestored,
                key,
                "\(key)'s session changed the agent tools' own settings, put back as they were: "
                    + paths.joined(separator: ", "),
                MissionEvent.ToolSettingsRestored(paths: paths)
            )
        case .missionQueued(let ahead, let maxRunning):
            return make(
                .missionQueued,
                nil,
                "queued: \(maxRunning) mission\(maxRunning == 1 ? "" : "s") may run at once (--max-running), and "
                    + (ahead == 0 ? "this one is next" : "\(ahead) wait\(ahead == 1 ? "s" : "") before it"),
                MissionEvent.MissionQueued(ahead: ahead, maxRunning: maxRunning)
            )
        case .missionDequeued(let waited):
            return make(
                .missionDequeued,
                nil,
                "its turn came after \(Duration.seconds(bounded: waited).shortDescription) in the queue",
                MissionEvent.MissionDequeued(waitedMS: Int64((waited * 1000).rounded()))
            )
        case .stepStarted(let key, let start):
            let what =
                start.kind == .stepRetry
                ? "tries again (try \(start.attempt))" : start.loop > 0 ? "runs again (return \(start.loop))" : "starts"
            return make(
                start.kind,
                key,
                "\(key) step \(start.number) \(start.step) \(what) with \(start.backend)"
                    + (start.reason.map { ": \($0)" } ?? ""),
                start
            )
        case .stepFinished(let key, let record):
            return make(
                .stepFinished,
                key,
                "\(key) step \(record.number) \(record.step) \(record.status.rawValue)"
                    + (record.reason.map { ": \($0)" } ?? "")
                    + " (\(record.changeStatus == .changed ? "changed files" : "no changes"), "
                    + "$\(String(format: "%.4f", record.costUSD)))",
                record
            )
        case .stepChangesTakenBack(let key, let taken):
            return make(
                taken.readOnly ? .stepReadOnlyDiscarded : .stepScopeTakenBack,
                key,
                "\(key) step \(taken.number) \(taken.step) "
                    + (taken.readOnly
                        ? "is read-only; its changes were discarded: "
                        : "changed files outside its paths, taken back: ")
                    + taken.paths.joined(separator: ", "),
                taken
            )
        }
    }
}

extension [AttemptKey] {
    /// The attempts as people read them: `a#1, b#2`.
    package var list: String { map(\.description).joined(separator: ", ") }

    /// The attempts as events name them: `a#1`.
    package var names: [String] { map(\.description) }
}

extension String {
    /// The first 7 characters of a commit id.
    package var shortSHA: String { String(prefix(7)) }
}
