import Foundation

extension LedgerChange {
    /// The event that records this change.
    package func event(mission: MissionID, at: Date) -> MissionEvent {
        func make(
            _ kind: EventKind,
            _ key: AttemptKey? = nil,
            _ message: String,
            _ data: [String: JSONValue] = [:]
        ) -> MissionEvent {
            MissionEvent(
                mission: mission,
                at: at,
                kind: kind,
                group: key?.group,
                attempt: key?.number,
                message: message,
                data: data
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
                [
                    "goal": .string(spec.goal), "base_commit": .string(spec.baseCommit),
                    "target_branch": .string(spec.targetBranch), "groups": .number(Double(spec.checklist.groups.count)),
                ]
            )
        case .missionStarted(let agents, let backend, let runner, let resumed, let sandbox):
            var data: [String: JSONValue] = [
                "agents": .number(Double(agents)), "backend": .string(backend), "resumed": .bool(resumed),
            ]
            if let runner { data["runner_pid"] = .number(Double(runner.pid)) }
            if let sandbox { data["sandbox"] = .string(sandbox) }
            return make(
                .missionStarted,
                nil,
                "mission \(resumed ? "resumed" : "started") with \(agents) agent\(agents == 1 ? "" : "s") (\(backend))"
                    + (runner.map { " in process \($0.pid)" } ?? "") + (sandbox.map { "; sandbox: \($0)" } ?? ""),
                data
            )
        case .landingVerified(let keys, let commit, let regression):
            var data = regression.eventData
            data["attempts"] = keys.json
            return make(
                .landingVerified,
                keys.count == 1 ? keys[0] : nil,
                "\(keys.list) verified as \(commit.shortSHA) (regression verify passed in "
                    + "\(regression.duration.shortDescription))",
                data
            )
        case .groupsApproved(let groups):
            return make(
                .groupsApproved,
                nil,
                "approved: \(groups.joined(separator: ", ")) may be attempted again",
                ["groups": .array(groups.map { .string($0) })]
            )
        case .recovered(let actions):
            return make(
                .missionRecovered,
                nil,
                "recovered: " + (actions.isEmpty ? "nothing to repair" : actions.joined(separator: "; ")),
                ["actions": .array(actions.map { .string($0) })]
            )
        case .attemptStarted(let start):
            return make(
                .attemptStarted,
                start.key,
                "\(start.key) started on agent \(start.slot) from \(start.startCommit.shortSHA)",
                [
                    "slot": .number(Double(start.slot)), "sequence": .number(Double(start.sequence)),
                    "start_commit": .string(start.startCommit), "branch": .string(start.branch),
                    "sandbox": start.sandbox.map(JSONValue.string) ?? .null,
                ]
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
            var data: [String: JSONValue] = [
                "duration_ms": .number(Double(report.duration.milliseconds)),
                "cost_usd": .number(report.usage.costUSD),
                "timed_out": .bool(report.timedOut),
                "input_tokens": .number(Double(report.usage.inputTokens)),
                "output_tokens": .number(Double(report.usage.outputTokens)),
            ]
            if let exitCode = report.exitCode { data["exit_code"] = .number(Double(exitCode)) }
            if let failure = report.failure { data["failure"] = .string(failure) }
            if let backend = report.backend { data["backend"] = .string(backend) }
            return make(.agentFinished, key, message, data)
        case .attemptCommitted(let key, let commit, let diff):
            guard let commit else { return make(.attemptCommitted, key, "\(key) made no changes") }
            var data: [String: JSONValue] = ["commit": .string(commit)]
            if let diff {
                data["files"] = .number(Double(diff.files))
                data["insertions"] = .number(Double(diff.insertions))
                data["deletions"] = .number(Double(diff.deletions))
            }
            return make(
                .attemptCommitted,
                key,
                "\(key) committed \(commit.shortSHA)" + (diff.map { " (\($0.description))" } ?? ""),
                data
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
                verification.eventData
            )
        case .mergeStarted(let keys, let targetHead):
            return make(
                .mergeStarted,
                keys.count == 1 ? keys[0] : nil,
                "\(keys.list) merging onto \(targetHead.shortSHA)" + (keys.count > 1 ? " (one landing)" : ""),
                ["target_head": .string(targetHead), "attempts": keys.json]
            )
        case .attemptsLanded(let keys, let landedCommit, let regression):
            var data = regression.eventData
            data["landed_commit"] = .string(landedCommit)
            data["attempts"] = keys.json
            return make(
                .attemptLanded,
                keys.count == 1 ? keys[0] : nil,
                "\(keys.list) landed \(keys.count > 1 ? "together " : "")as \(landedCommit.shortSHA)",
                data
            )
        case .mergeRequeued(let keys, let reason, let verification):
            var data = verification?.eventData ?? [:]
            data["attempts"] = keys.json
            data["reason"] = .string(reason)
            return make(
                .mergeRequeued,
                keys.count == 1 ? keys[0] : nil,
                "\(keys.list) back in the merge queue: \(reason)",
                data
            )
        case .attemptFailed(let conclusion):
            var message =
                "\(conclusion.key) \(conclusion.outcome.rawValue.replacingOccurrences(of: "_", with: " ")): "
                + conclusion.reason
            var data: [String: JSONValue] = [
                "outcome": .string(conclusion.outcome.rawValue), "reason": .string(conclusion.reason),
                "group_status": .string(conclusion.groupStatus.rawValue),
            ]
            if let stall = conclusion.stall {
                data["stalled_attempts"] = .number(Double(stall.stalledAttempts))
                data["escalation"] = .string(stall.escalation.rawValue)
                if stall.madeProgress { message += " (progress made)" }
            }
            if conclusion.groupStatus == .blocked {
                message += " — group blocked"
                if !conclusion.blockedDependents.isEmpty {
                    message += " with its dependents \(conclusion.blockedDependents.joined(separator: ", "))"
                }
                data["blocked_dependents"] = .array(conclusion.blockedDependents.map { .string($0) })
            } else if let stall = conclusion.stall, stall.escalation == .strategyChange, stall.stalledAttempts == 0 {
                message += " — stalled, next prompt asks for a different strategy"
            }
            return make(.attemptFailed, conclusion.key, message, data)
        case .breakerTripped(let trip):
            return make(
                .breakerTripped,
                nil,
                "breaker \(trip.reason.rawValue) tripped: \(trip.detail)",
                ["reason": .string(trip.reason.rawValue), "detail": .string(trip.detail)]
            )
        case .finalVerifyFinished(let verification):
            return make(
                .finalVerify,
                nil,
                "final verify \(verification.passed ? "passed" : "failed") on \(verification.commit.shortSHA) in "
                    + verification.duration.shortDescription,
                verification.eventData
            )
        case .missionFinished(let reason, let summary):
            return make(
                .missionFinished,
                nil,
                "mission \(reason.outcomeDescription): \(summary)",
                ["reason": .string(reason.rawValue), "state": .string(reason.missionState.rawValue)]
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
            var data: [String: JSONValue] = [
                "role": .string(call.role.rawValue), "model": .string(call.model),
                "input_tokens": .number(Double(call.usage.inputTokens)),
                "output_tokens": .number(Double(call.usage.outputTokens)),
                "cost_usd": .number(call.usage.costUSD),
                "duration_ms": .number(Double(call.duration.milliseconds)),
            ]
            if let error = call.error { data["error"] = .string(error) }
            return make(.modelCalled, call.attempt, message, data)
        case .refsRestored(let restorations, let reason):
            let list = restorations.map { "\($0.ref) from \($0.foreign.shortSHA) back to \($0.restoredTo.shortSHA)" }
            return make(
                .refsRestored,
                nil,
                "restored \(list.joined(separator: ", ")) (\(reason)); the foreign commits are kept under "
                    + restorations.map(\.quarantine).joined(separator: ", "),
                [
                    "reason": .string(reason),
                    "refs": .array(
                        restorations.map {
                            .object([
                                "ref": .string($0.ref), "foreign": .string($0.foreign),
                                "restored_to": .string($0.restoredTo), "quarantine": .string($0.quarantine),
                            ])
                        }
                    ),
                ]
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
                [
                    "attempts": during.json,
                    "refs": .array(
                        moves.map {
                            .object([
                                "ref": .string($0.ref), "from": $0.from.map(JSONValue.string) ?? .null,
                                "to": $0.to.map(JSONValue.string) ?? .null,
                            ])
                        }
                    ),
                ]
            )
        case .crashNoticed(let crash):
            var data: [String: JSONValue] = [
                "runner_pid": .number(Double(crash.runner.pid)),
                "runner_start_ticks": .number(Double(crash.runner.startTicks)),
                "delay_ms": .number(Double(crash.delay.milliseconds)), "limit": .number(Double(crash.limit)),
            ]
            if let restart = crash.restart { data["restart"] = .number(Double(restart)) }
            let died = "its process \(crash.runner.pid) died without finishing the mission"
            return make(
                .missionCrashed,
                nil,
                crash.restart.map {
                    "\(died); restarting it (\($0) of \(crash.limit)) in \(crash.delay.shortDescription)"
                }
                    ?? "\(died) after \(crash.limit) restarts in a row; not restarting it again: read its log, then "
                    + "`flotilla resume \(mission)`",
                data
            )
        case .reviewed(let key, let verdict):
            var data: [String: JSONValue] = [
                "threshold": .number(Double(verdict.threshold)), "blocks": .bool(verdict.blocks),
                "summary": .string(verdict.summary), "concerns": .array(verdict.concerns.map { .string($0) }),
            ]
            if let score = verdict.score { data["score"] = .number(Double(score)) }
            let said =
                verdict.score.map {
                    "scored \($0)/10" + (verdict.blocks ? " (needs \(verdict.threshold)): sent back" : "")
                }
                ?? "gave no usable review (\(verdict.summary)); blocking nothing"
            return make(
                .reviewScored,
                key,
                "review of \(key) \(said)" + (verdict.score == nil ? "" : ": \(verdict.summary)"),
                data
            )
        case .objectiveChecked(let verdict, let putToHuman):
            return objectiveEvent(verdict, putToHuman: putToHuman) { make($0, $1, $2, $3) }
        case .groupsAdded(let groups, _, let by):
            return make(
                .groupsAdded,
                nil,
                "\(by) added \(groups.count) group\(groups.count == 1 ? "" : "s"): "
                    + groups.map { "\($0.id) (\($0.title))" }.joined(separator: ", "),
                ["groups": .array(groups.map { .string($0.id) }), "by": .string(by)]
            )
        case .speculationRanked(let group, let candidates):
            return speculationEvent(group: group, candidates) { make($0, $1, $2, $3) }
        case .approvalRequested(let key, let question):
            let subject =
                question ?? key.map { "\($0) passed its gate; its landing" }
                ?? "every group landed and verified; the mission"
            let target = key.map { " --group \($0.group)" } ?? ""
            var data: [String: JSONValue] = ["scope": .string(key == nil ? "mission" : "landing")]
            if let question { data["question"] = .string(question) }
            return make(
                .approvalRequested,
                key,
                "\(subject) waits for a human: `flotilla approve \(mission)\(target)`, or "
                    + "`flotilla reject \(mission)\(target) --reason \"…\"`",
                data
            )
        case .approvalDecided(let key, let decision):
            var data: [String: JSONValue] = [
                "approved": .bool(decision.approved), "by": .string(decision.by),
                "scope": .string(key == nil ? "mission" : "landing"),
            ]
            if let reason = decision.reason { data["reason"] = .string(reason) }
            let subject = key.map { "landing of \($0)" } ?? "mission"
            return make(
                .approvalDecided,
                key,
                "\(subject) \(decision.approved ? "approved" : "rejected") by \(decision.by)"
                    + (decision.reason.map { ": \($0)" } ?? ""),
                data
            )
        case .pushed(let push):
            var data: [String: JSONValue] = [
                "remote": .string(push.remote), "branch": .string(push.branch), "commit": .string(push.commit),
                "expected": push.expected.map(JSONValue.string) ?? .null,
            ]
            guard let refusal = push.refusal else {
                return make(
                    .branchPushed,
                    nil,
                    "pushed \(push.branch) at \(push.commit.shortSHA) to \(push.remote)",
                    data
                )
            }
            data["refusal"] = .string(refusal)
            return make(
                .pushRefused,
                nil,
                "push of \(push.branch) at \(push.commit.shortSHA) to \(push.remote) refused: \(refusal); Flotilla never "
                    + "forces over work it did not push (it expected "
                    + (push.expected.map { "\($0.shortSHA)" } ?? "no such branch") + " there)",
                data
            )
        case .landedOnto(let landing):
            var data: [String: JSONValue] = [
                "branch": .string(landing.branch), "from": .string(landing.from), "how": .string(landing.how),
                "commit": landing.commit.map(JSONValue.string) ?? .null,
            ]
            guard let refusal = landing.refusal else {
                return make(
                    .landedOnto,
                    nil,
                    "landed on \(landing.branch) (\(landing.how)): \(landing.from.shortSHA) → "
                        + (landing.commit?.shortSHA ?? "?") + ", verified",
                    data
                )
            }
            data["refusal"] = .string(refusal)
            return make(.landRefused, nil, "not landed on \(landing.branch): \(refusal)", data)
        case .notificationTried(let attempt):
            let what = "notification \(attempt.target) (\(attempt.kind.rawValue)) of \(attempt.event)"
            var data: [String: JSONValue] = [
                "notification": .number(Double(attempt.notification)), "target": .string(attempt.target),
                "target_kind": .string(attempt.kind.rawValue), "event": .string(attempt.event),
                "try": .number(Double(attempt.number)), "attempts": .number(Double(attempt.attempts)),
            ]
            guard let error = attempt.error else {
                return make(.notificationDelivered, nil, "\(what) delivered on try \(attempt.number)", data)
            }
            data["error"] = .string(error)
            if let retry = attempt.retryAt { data["retry_at"] = .number(retry.timeIntervalSince1970) }
            let next =
                attempt.retryAt.map {
                    "trying again in \(Duration.seconds(bounded: $0.timeIntervalSince(at)).shortDescription)"
                }
                ?? "giving up after \(attempt.number) tries"
            return make(
                .notificationFailed,
                nil,
                "\(what) failed on try \(attempt.number) of \(attempt.attempts): \(error); \(next)",
                data
            )
        case .testEditsReverted(let key, let paths):
            return make(
                .testEditsReverted,
                key,
                "\(key) edited existing tests, taken back before its gate: \(paths.joined(separator: ", "))",
                ["paths": .array(paths.map { .string($0) })]
            )
        }
    }
}

extension Verification {
    var eventData: [String: JSONValue] {
        var data: [String: JSONValue] = [
            "kind": .string(kind.rawValue), "commit": .string(commit), "passed": .bool(passed),
            "duration_ms": .number(Double(duration.milliseconds)),
            "groups": .array(groups.map { .string($0) }),
            "landed_groups_checked": .number(Double(landedGroupsChecked)),
        ]
        if let exitCode { data["exit_code"] = .number(Double(exitCode)) }
        return data
    }
}

extension [AttemptKey] {
    /// The attempts as people read them: `a#1, b#2`.
    package var list: String { map(\.description).joined(separator: ", ") }

    package var json: JSONValue { .array(map { .string($0.description) }) }
}

extension String {
    /// The first 7 characters of a commit id.
    package var shortSHA: String { String(prefix(7)) }
}
