import Foundation

/// One state change of a mission.
///
/// The ledger applies each in one transaction together with its event (``LedgerChange/event(mission:at:)``), so the
/// ledger and the event stream never disagree.
package enum LedgerChange: Sendable, Equatable {
    case missionCreated(MissionSpec)
    /// A run of the mission starts (the first, or a resume) in the `runner` process, with its sandbox (and, when it is
    /// not what was asked for, why).
    case missionStarted(agents: Int, backend: String, runner: ProcessIdentity?, resumed: Bool, sandbox: String? = nil)
    case attemptStarted(AttemptStart)
    case agentFinished(AttemptKey, AgentReport)
    /// The agent's work was committed in its worktree (`commit` is nil when it changed nothing).
    case attemptCommitted(AttemptKey, commit: String?, diff: DiffStat?)
    /// The attempt's own gate ran; when it passed the attempt waits in the merge queue.
    case gateFinished(Verification)
    /// A landing round starts for these candidates.
    case mergeStarted([AttemptKey], targetHead: String)
    /// The merged commit of these candidates passed its regression verify; the target branch moves to it next.
    /// Recorded before the move, so that the branch never points at a commit without a recorded verification.
    case landingVerified([AttemptKey], commit: String, regression: Verification)
    /// The merged commit passed its regression verify and the target branch moved to it; several attempts
    /// land together when they were verified together.
    case attemptsLanded([AttemptKey], landedCommit: String, regression: Verification)
    /// Candidates go back to the merge queue without landing: they conflicted only with others of their round,
    /// or their round's verify failed and they are tried apart (`verification` is that failed verify).
    case mergeRequeued([AttemptKey], reason: String, verification: Verification?)
    case attemptFailed(AttemptConclusion)
    case breakerTripped(BreakerTrip)
    /// A human released blocked groups: they are pending again, their stall counts reset.
    case groupsApproved([String])
    /// A resume found the mission as a crash or a stop left it and put it in order; `actions` says what it did.
    case recovered(actions: [String])
    case finalVerifyFinished(Verification)
    case missionFinished(StopReason, summary: String)
    /// A planner or critic call to a language model, answered or not.
    case modelCalled(ModelCall)
    /// Refs Flotilla guards (the target branch; the user's branches, without a sandbox) were found moved by someone
    /// else and put back; the foreign commits stay reachable under `refs/flotilla/quarantine/`.
    case refsRestored([RefRestoration], reason: String)
    /// Edits the attempt made to existing tests were taken back before its gate; it is judged, and lands, without
    /// them.
    case testEditsReverted(AttemptKey, paths: [String])
    /// The user's branches or tags moved while agents ran without a sandbox: reported, not undone, since Flotilla
    /// cannot tell the user's own commits from an agent's there.
    case refsMoved([RefMove], during: [AttemptKey])
}

/// A ref that moved, was created (`from` nil) or deleted (`to` nil).
package struct RefMove: Sendable, Equatable {
    package var ref: String
    package var from: String?
    package var to: String?

    package init(ref: String, from: String?, to: String?) {
        self.ref = ref
        self.from = from
        self.to = to
    }
}

/// A ref put back where Flotilla knew it.
package struct RefRestoration: Sendable, Equatable {
    package var ref: String
    /// Where someone else had moved it.
    package var foreign: String
    package var restoredTo: String
    /// The ref that keeps the foreign commit, so nothing anyone made is lost.
    package var quarantine: String

    package init(ref: String, foreign: String, restoredTo: String, quarantine: String) {
        self.ref = ref
        self.foreign = foreign
        self.restoredTo = restoredTo
        self.quarantine = quarantine
    }
}

/// One call to a language model on a mission's behalf: who asked, what it cost, how it went.
package struct ModelCall: Sendable, Equatable {
    package enum Role: String, Sendable, Codable {
        case planner, critic
    }

    package var role: Role
    /// The attempt a critic reviewed; nil for the planner.
    package var attempt: AttemptKey?
    /// The model that answered, else the one asked.
    package var model: String
    package var usage: Usage
    package var duration: Duration
    /// Why no usable answer came, when none did.
    package var error: String?

    package init(
        role: Role,
        attempt: AttemptKey? = nil,
        model: String,
        usage: Usage,
        duration: Duration,
        error: String? = nil
    ) {
        self.role = role
        self.attempt = attempt
        self.model = model
        self.usage = usage
        self.duration = duration
        self.error = error
    }
}

/// The start of an attempt: its claim, worktree and files.
package struct AttemptStart: Sendable, Equatable {
    package var key: AttemptKey
    package var sequence: Int
    package var slot: Int
    package var backend: String
    package var startCommit: String
    package var branch: String
    package var worktree: String
    package var promptPath: String
    package var transcriptPath: String
    package var claimExpiresAt: Date
    /// The sandbox the session and the gate run in.
    package var sandbox: String?

    package init(
        key: AttemptKey,
        sequence: Int,
        slot: Int,
        backend: String,
        startCommit: String,
        branch: String,
        worktree: String,
        promptPath: String,
        transcriptPath: String,
        claimExpiresAt: Date,
        sandbox: String? = nil
    ) {
        self.sandbox = sandbox
        self.key = key
        self.sequence = sequence
        self.slot = slot
        self.backend = backend
        self.startCommit = startCommit
        self.branch = branch
        self.worktree = worktree
        self.promptPath = promptPath
        self.transcriptPath = transcriptPath
        self.claimExpiresAt = claimExpiresAt
    }
}

/// What the agent run produced, normalised across backends.
package struct AgentReport: Sendable, Equatable {
    package var exitCode: Int?
    package var signal: Int?
    package var timedOut: Bool
    package var duration: Duration
    package var usage: Usage
    package var message: String?
    /// A classified failure of the agent itself (not of the work), such as a crash or an auth error.
    package var failure: String?
    /// The backend that ran the session, when not the mission's own (a fallback took over).
    package var backend: String?

    package init(
        exitCode: Int?,
        signal: Int? = nil,
        timedOut: Bool = false,
        duration: Duration,
        usage: Usage = .zero,
        message: String? = nil,
        failure: String? = nil,
        backend: String? = nil
    ) {
        self.backend = backend
        self.exitCode = exitCode
        self.signal = signal
        self.timedOut = timedOut
        self.duration = duration
        self.usage = usage
        self.message = message
        self.failure = failure
    }
}

/// How an attempt ended without landing, and what it does to its group.
package struct AttemptConclusion: Sendable, Equatable {
    package var key: AttemptKey
    package var outcome: AttemptOutcome
    /// One line for people: why it failed.
    package var reason: String
    /// What the next attempt's prompt says about this one (reason and output tail).
    package var feedback: String
    package var stall: StallAssessment?
    /// The group's status afterwards: pending (retry) or blocked.
    package var groupStatus: GroupStatus
    /// Dependents blocked together with the group.
    package var blockedDependents: [String]
    /// The regression verify that failed, for ``AttemptOutcome/regression``.
    package var verification: Verification?
    package var criteriaPassed: Int?

    package init(
        key: AttemptKey,
        outcome: AttemptOutcome,
        reason: String,
        feedback: String,
        stall: StallAssessment?,
        groupStatus: GroupStatus,
        blockedDependents: [String] = [],
        verification: Verification? = nil,
        criteriaPassed: Int? = nil
    ) {
        self.key = key
        self.outcome = outcome
        self.reason = reason
        self.feedback = feedback
        self.stall = stall
        self.groupStatus = groupStatus
        self.blockedDependents = blockedDependents
        self.verification = verification
        self.criteriaPassed = criteriaPassed
    }
}

/// The names of events; stable, as scripts and the HTTP API read them.
package enum EventKind: String, Sendable, Codable, CaseIterable {
    case missionCreated = "mission.created"
    case missionStarted = "mission.started"
    case missionRecovered = "mission.recovered"
    case groupsApproved = "groups.approved"
    case landingVerified = "merge.verified"
    case attemptStarted = "attempt.started"
    case agentFinished = "agent.finished"
    case attemptCommitted = "attempt.committed"
    case gatePassed = "gate.passed"
    case gateFailed = "gate.failed"
    case mergeStarted = "merge.started"
    case attemptLanded = "attempt.landed"
    case mergeRequeued = "merge.requeued"
    case attemptFailed = "attempt.failed"
    case breakerTripped = "breaker.tripped"
    case finalVerify = "verify.final"
    case missionFinished = "mission.finished"
    case modelCalled = "model.called"
    case refsRestored = "refs.restored"
    case testEditsReverted = "attempt.tests_reverted"
    case refsMoved = "refs.moved"
}

/// An entry of a mission's event stream (ledger `events` table, `events.jsonl`, live views).
package struct MissionEvent: Sendable, Equatable, Codable {
    /// Position in the ledger, increasing; 0 until stored.
    package var id: Int64
    package var mission: MissionID
    package var at: Date
    package var kind: EventKind
    package var group: String?
    package var attempt: Int?
    /// A sentence for people.
    package var message: String
    package var data: [String: JSONValue]

    package init(
        id: Int64 = 0,
        mission: MissionID,
        at: Date,
        kind: EventKind,
        group: String? = nil,
        attempt: Int? = nil,
        message: String,
        data: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.mission = mission
        self.at = at
        self.kind = kind
        self.group = group
        self.attempt = attempt
        self.message = message
        self.data = data
    }
}

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
        case .gateFinished(let verification):
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
            let subject = call.role == .critic ? "critic on \(call.attempt.map(\.description) ?? "?")" : "planner"
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
