import FlotillaCore
import Foundation
import GRDB

extension LedgerWrite {
    /// Inserts the attempt and its claim, and marks its group active.
    func attemptStarted(_ start: AttemptStart) throws {
        try db.execute(
            sql: """
                INSERT INTO attempts (mission_id, group_id, number, sequence, slot, backend, phase, start_commit,
                    branch, worktree, prompt_path, transcript_path, started_at, sandbox)
                VALUES (?, ?, ?, ?, ?, ?, 'agent', ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                mission, start.key.group, start.key.number, start.sequence, start.slot, start.backend,
                start.startCommit, start.branch, start.worktree, start.promptPath, start.transcriptPath, now,
                start.sandbox,
            ]
        )
        // One claim per group, except for the candidates of one best-of-N round.
        let held =
            try Int.fetchOne(
                db,
                sql: "SELECT count(*) FROM claims WHERE mission_id = ? AND group_id = ?",
                arguments: [mission, start.key.group]
            ) ?? 0
        if held >= start.roundSize {
            throw LedgerError.invalid(
                "group \(start.key.group) is already claimed by \(held) attempt\(held == 1 ? "" : "s") "
                    + "(\(start.key) may be one of \(start.roundSize))"
            )
        }
        try db.execute(
            sql: """
                INSERT INTO claims (mission_id, group_id, attempt_number, holder, acquired_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                mission, start.key.group, start.key.number, "agent-\(start.slot)", now,
                start.claimExpiresAt.timeIntervalSince1970,
            ]
        )
        try db.execute(
            sql: "UPDATE groups SET status = 'active', attempts = attempts + 1 WHERE mission_id = ? AND id = ?",
            arguments: [mission, start.key.group]
        )
        try expectChange("group \(start.key.group)")
    }

    /// Records what the agent's session did and cost (added to what the architect's plan cost), and sends the attempt to
    /// its gate.
    func agentFinished(_ key: AttemptKey, _ report: AgentReport) throws {
        try db.execute(
            sql: """
                UPDATE attempts SET phase = 'gate', exit_code = ?, signal = ?, timed_out = ?, failure = ?,
                    agent_message = ?, input_tokens = ?, output_tokens = ?, cache_read_tokens = ?,
                    cache_write_tokens = ?, cost_usd = cost_usd + ?, agent_seconds = ?, backend = COALESCE(?, backend)
                WHERE mission_id = ? AND group_id = ? AND number = ?
                """,
            arguments: [
                report.exitCode, report.signal, report.timedOut, report.failure, report.message,
                report.usage.inputTokens, report.usage.outputTokens, report.usage.cacheReadTokens,
                report.usage.cacheWriteTokens, report.usage.costUSD, report.duration.seconds, report.backend,
                mission, key.group, key.number,
            ]
        )
        try expectChange("attempt \(key)")
    }

    /// Records the commit Flotilla made of the attempt's tree.
    func attemptCommitted(_ key: AttemptKey, commit: String?, diff: DiffStat?) throws {
        try db.execute(
            sql: """
                UPDATE attempts SET commit_sha = ?, diff_files = ?, diff_insertions = ?, diff_deletions = ?
                WHERE mission_id = ? AND group_id = ? AND number = ?
                """,
            arguments: [commit, diff?.files, diff?.insertions, diff?.deletions, mission, key.group, key.number]
        )
        try expectChange("attempt \(key)")
    }

    /// Records the gate's verification; a pass queues the attempt to land unless a review is still to come.
    func gateFinished(_ verification: Verification, queue: Bool) throws {
        guard let key = verification.attempt else {
            throw LedgerError.invalid("a gate verification needs an attempt")
        }
        try insertVerification(verification)
        let criteria = verification.criteria(in: key.group)?.passed
        try db.execute(
            sql: """
                UPDATE attempts SET gate_seconds = ?, criteria_passed = coalesce(?, criteria_passed),
                    phase = CASE WHEN ? THEN 'queued' ELSE phase END
                WHERE mission_id = ? AND group_id = ? AND number = ?
                """,
            arguments: [verification.duration.seconds, criteria, queue, mission, key.group, key.number]
        )
        try expectChange("attempt \(key)")
    }

    /// A review that does not block queues the attempt its gate passed; one that blocks leaves it to be ended.
    func reviewed(_ key: AttemptKey, blocks: Bool) throws {
        guard !blocks else { return }
        try db.execute(
            sql: """
                UPDATE attempts SET phase = 'queued'
                WHERE mission_id = ? AND group_id = ? AND number = ? AND phase = 'gate' AND outcome IS NULL
                """,
            arguments: [mission, key.group, key.number]
        )
    }

    /// Ends an attempt that did not land, with what it means for its group and the groups after it.
    func attemptFailed(_ conclusion: AttemptConclusion) throws {
        let key = conclusion.key
        var verificationID: Int64?
        if let verification = conclusion.verification {
            verificationID = try insertVerification(verification)
        }
        if conclusion.outcome == .conflict || conclusion.outcome == .regression {
            try db.execute(
                sql: """
                    UPDATE merges SET state = ?, verification_id = ?, merged_commit = ?, finished_at = ?
                    WHERE mission_id = ? AND group_id = ? AND attempt_number = ?
                    """,
                arguments: [
                    conclusion.outcome.rawValue, verificationID, conclusion.verification?.commit, now,
                    mission, key.group, key.number,
                ]
            )
        }
        // Any other ending (an interrupted landing) leaves no landing behind.
        try db.execute(
            sql: """
                DELETE FROM merges
                WHERE mission_id = ? AND group_id = ? AND attempt_number = ? AND state = 'pending'
                """,
            arguments: [mission, key.group, key.number]
        )
        try db.execute(
            sql: """
                UPDATE attempts SET phase = 'finished', outcome = ?, reason = ?, feedback = ?, finished_at = ?,
                    criteria_passed = coalesce(?, criteria_passed)
                WHERE mission_id = ? AND group_id = ? AND number = ?
                """,
            arguments: [
                conclusion.outcome.rawValue, conclusion.reason, conclusion.feedback, now,
                conclusion.criteria?.passed, mission, key.group, key.number,
            ]
        )
        try expectChange("attempt \(key)")
        try db.execute(
            sql: """
                UPDATE groups SET status = ?, stalled_attempts = coalesce(?, stalled_attempts),
                    escalation = coalesce(?, escalation),
                    best_criteria_passed = coalesce(?, best_criteria_passed),
                    blocked_reason = CASE WHEN ? = 'blocked' THEN ? ELSE blocked_reason END
                WHERE mission_id = ? AND id = ?
                """,
            arguments: [
                conclusion.groupStatus.rawValue, conclusion.stall?.stalledAttempts,
                conclusion.stall?.escalation.rawValue, conclusion.stall?.bestCriteriaPassed,
                conclusion.groupStatus.rawValue,
                conclusion.outcome == .disputed ? "disputed: \(conclusion.reason)" : "stalled: \(conclusion.reason)",
                mission, key.group,
            ]
        )
        for dependent in conclusion.blockedDependents {
            try db.execute(
                sql: """
                    UPDATE groups SET status = 'blocked', blocked_reason = ?
                    WHERE mission_id = ? AND id = ? AND status <> 'done'
                    """,
                arguments: ["depends on blocked group \(key.group)", mission, dependent]
            )
        }
        // This attempt's claim only: the other candidates of a best-of-N round still hold theirs.
        try db.execute(
            sql: "DELETE FROM claims WHERE mission_id = ? AND group_id = ? AND attempt_number = ?",
            arguments: [mission, key.group, key.number]
        )
    }

    /// One try of a pipeline's step, after those the attempt recorded before it.
    func stepFinished(_ key: AttemptKey, _ record: PipelineStepRecord) throws {
        try db.execute(
            sql: """
                INSERT INTO attempt_steps (mission_id, group_id, attempt_number, position, step, number, loop, try,
                    backend, model, status, reason, change_status, cost_usd, input_tokens, output_tokens, snapshot,
                    record_json, started_at, finished_at)
                VALUES (?, ?, ?,
                    (SELECT coalesce(max(position), 0) + 1 FROM attempt_steps
                        WHERE mission_id = ? AND group_id = ? AND attempt_number = ?),
                    ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                mission, key.group, key.number, mission, key.group, key.number, record.step, record.number,
                record.loop, record.attempt, record.backend, record.model, record.status.rawValue, record.reason,
                record.changeStatus.rawValue, record.costUSD, record.inputTokens, record.outputTokens,
                record.snapshot, try json(record), record.startedAt.timeIntervalSince1970,
                record.finishedAt.timeIntervalSince1970,
            ]
        )
    }
}
