import FlotillaCore
import Foundation
import GRDB

extension LedgerWrite {
    /// Inserts the mission with its groups, criteria and dependencies.
    func missionCreated(_ spec: MissionSpec) throws {
        try db.execute(
            sql: """
                INSERT INTO missions (id, goal, repository, base_commit, target_branch, verify_command,
                    protected_patterns, agents, backend, model, max_cost_usd, max_wall_clock_s, max_attempts,
                    attempt_timeout_s, stall_threshold, checklist_json, checklist_source, options_json, state,
                    created_at, pipelines_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'created', ?, ?)
                """,
            arguments: [
                mission, spec.goal, spec.repository, spec.baseCommit, spec.targetBranch, spec.verifyCommand,
                try json(spec.protectedPatterns), spec.agents, spec.backend, spec.model, spec.limits.maxCostUSD,
                spec.limits.maxWallClock?.seconds, spec.limits.maxAttempts, spec.limits.attemptTimeout.seconds,
                spec.limits.stallThreshold, String(decoding: ChecklistJSON.encode(spec.checklist), as: UTF8.self),
                spec.checklistSource, try json(spec.options), now, try json(spec.pipelines),
            ]
        )
        for (position, group) in spec.checklist.groups.enumerated() {
            try db.execute(
                sql: "INSERT INTO groups (mission_id, id, position, title, check_command) VALUES (?, ?, ?, ?, ?)",
                arguments: [mission, group.id, position, group.title, group.check]
            )
            for (index, criterion) in group.criteria.enumerated() {
                try db.execute(
                    sql: "INSERT INTO criteria (mission_id, group_id, position, text) VALUES (?, ?, ?, ?)",
                    arguments: [mission, group.id, index, criterion]
                )
            }
        }
        for group in spec.checklist.groups {
            for dependency in group.dependsOn {
                try db.execute(
                    sql: "INSERT INTO dependencies (mission_id, group_id, depends_on) VALUES (?, ?, ?)",
                    arguments: [mission, group.id, dependency]
                )
            }
        }
    }

    /// Marks the mission running under `runner`, closing a segment a crash left open.
    func missionStarted(runner: ProcessIdentity?) throws {
        // A run that ended in a crash never closed its segment: count it up to its last event.
        try db.execute(
            sql: """
                UPDATE missions SET running_seconds = running_seconds + max(0,
                    coalesce((SELECT max(at) FROM events WHERE mission_id = missions.id), segment_started_at)
                    - segment_started_at)
                WHERE id = ? AND segment_started_at IS NOT NULL
                """,
            arguments: [mission]
        )
        try db.execute(
            sql: """
                UPDATE missions SET state = 'running', stop_reason = NULL, finished_at = NULL,
                    started_at = coalesce(started_at, ?), segment_started_at = ?,
                    runner_pid = ?, runner_start_ticks = ?
                WHERE id = ?
                """,
            arguments: [now, now, runner?.pid, runner.map { Int64(bitPattern: $0.startTicks) }, mission]
        )
        try expectChange("mission \(mission)")
    }

    /// Keeps why a breaker tripped.
    func breakerTripped(_ trip: BreakerTrip) throws {
        try db.execute(
            sql: "UPDATE missions SET breaker_detail = ? WHERE id = ?",
            arguments: [trip.description, mission]
        )
    }

    /// Adds groups to a running mission after its last, and stores the whole new checklist.
    func groupsAdded(_ groups: [ChecklistGroup], checklist: Checklist, by: String) throws {
        var position =
            try Int.fetchOne(
                db,
                sql: "SELECT coalesce(max(position), -1) + 1 FROM groups WHERE mission_id = ?",
                arguments: [mission]
            ) ?? 0
        for group in groups {
            try db.execute(
                sql: """
                    INSERT INTO groups (mission_id, id, position, title, check_command, added_by)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [mission, group.id, position, group.title, group.check, by]
            )
            position += 1
            for (index, criterion) in group.criteria.enumerated() {
                try db.execute(
                    sql: "INSERT INTO criteria (mission_id, group_id, position, text) VALUES (?, ?, ?, ?)",
                    arguments: [mission, group.id, index, criterion]
                )
            }
            for dependency in group.dependsOn {
                try db.execute(
                    sql: "INSERT INTO dependencies (mission_id, group_id, depends_on) VALUES (?, ?, ?)",
                    arguments: [mission, group.id, dependency]
                )
            }
        }
        try db.execute(
            sql: "UPDATE missions SET checklist_json = ? WHERE id = ?",
            arguments: [String(decoding: ChecklistJSON.encode(checklist), as: UTF8.self), mission]
        )
    }

    /// Gives blocked groups another round.
    func groupsApproved(_ groups: [String]) throws {
        for group in groups {
            try db.execute(
                sql: """
                    UPDATE groups SET status = 'pending', stalled_attempts = 0, escalation = 'none',
                        blocked_reason = NULL
                    WHERE mission_id = ? AND id = ? AND status = 'blocked'
                    """,
                arguments: [mission, group]
            )
        }
    }

    /// Ends the mission and closes its running segment.
    func missionFinished(_ reason: StopReason) throws {
        try db.execute(
            sql: """
                UPDATE missions SET state = ?, stop_reason = ?, finished_at = ?,
                    running_seconds = running_seconds + max(0, ? - coalesce(segment_started_at, ?)),
                    segment_started_at = NULL, pause_after_attempts = NULL
                WHERE id = ?
                """,
            arguments: [reason.missionState.rawValue, reason.rawValue, now, now, now, mission]
        )
        try db.execute(sql: "DELETE FROM claims WHERE mission_id = ?", arguments: [mission])
    }

    /// Records a planner or critic call; a critic's cost is added to its attempt.
    func modelCalled(_ call: ModelCall) throws {
        try db.execute(
            sql: """
                INSERT INTO model_calls (mission_id, role, group_id, attempt_number, model, input_tokens,
                    output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, duration_ms, error, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                mission, call.role.rawValue, call.attempt?.group, call.attempt?.number, call.model,
                call.usage.inputTokens, call.usage.outputTokens, call.usage.cacheReadTokens,
                call.usage.cacheWriteTokens, call.usage.costUSD, call.duration.milliseconds, call.error, now,
            ]
        )
        // A critic's cost is its attempt's, so attempt, group and mission costs include it.
        if let key = call.attempt, call.usage.costUSD > 0 {
            try db.execute(
                sql:
                    "UPDATE attempts SET cost_usd = cost_usd + ? WHERE mission_id = ? AND group_id = ? AND number = ?",
                arguments: [call.usage.costUSD, mission, key.group, key.number]
            )
            try expectChange("attempt \(key)")
        }
    }
}
