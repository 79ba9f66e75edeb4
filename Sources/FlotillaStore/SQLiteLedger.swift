import FlotillaCore
import Foundation
import GRDB

/// The real ``MissionLedger``: one SQLite file in WAL mode, written through GRDB.
///
/// Each ``LedgerChange`` is applied in one write transaction together with its event row, so a crash leaves
/// either both or neither. Schema constraints (checks, foreign keys, a partial unique index on landings)
/// reject states that must never exist, whatever the code above does.
package final class SQLiteLedger: MissionLedger {
    private let database: any DatabaseWriter

    /// Opens (creating if needed) the ledger at `path` and migrates it to the current schema.
    package init(path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        var configuration = Configuration()
        // Several flotilla processes may share one ledger (a running mission and `status`): wait for locks.
        configuration.busyMode = .timeout(15)
        configuration.prepareDatabase { db in
            // WAL survives a killed process with every committed transaction; NORMAL skips fsyncs per commit.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            try LedgerSchema.migrator.migrate(database)
        } catch {
            throw LedgerError.unreadable(path: path, detail: "\(error)")
        }
    }

    /// A ledger in memory, for tests of code above the store.
    package init(inMemory: Void) throws {
        database = try DatabaseQueue()
        try LedgerSchema.migrator.migrate(database)
    }

    @discardableResult
    package func record(_ change: LedgerChange, mission: MissionID, at: Date) async throws -> MissionEvent {
        var event = change.event(mission: mission, at: at)
        let unsaved = event
        do {
            event.id = try await database.write { db in
                try Self.apply(change, mission: mission, at: at, db: db)
                return try Self.insert(unsaved, db: db)
            }
        } catch let error as DatabaseError {
            throw LedgerError.rejected(change: event.kind.rawValue, detail: error.message ?? "\(error)")
        }
        return event
    }

    // MARK: - Writes

    private static func apply(_ change: LedgerChange, mission: MissionID, at: Date, db: Database) throws {
        let m = mission.rawValue
        let now = at.timeIntervalSince1970
        switch change {
        case .missionCreated(let spec):
            try insertMission(spec, at: now, db: db)

        case .missionStarted(_, _, let runner, _, _):
            // A run that ended in a crash never closed its segment: count it up to its last event.
            try db.execute(
                sql: """
                    UPDATE missions SET running_seconds = running_seconds + max(0,
                        coalesce((SELECT max(at) FROM events WHERE mission_id = missions.id), segment_started_at)
                        - segment_started_at)
                    WHERE id = ? AND segment_started_at IS NOT NULL
                    """,
                arguments: [m]
            )
            try db.execute(
                sql: """
                    UPDATE missions SET state = 'running', stop_reason = NULL, finished_at = NULL,
                        started_at = coalesce(started_at, ?), segment_started_at = ?,
                        runner_pid = ?, runner_start_ticks = ?
                    WHERE id = ?
                    """,
                arguments: [now, now, runner?.pid, runner.map { Int64(bitPattern: $0.startTicks) }, m]
            )
            try expectChange(db, "mission \(m)")

        case .attemptStarted(let start):
            try db.execute(
                sql: """
                    INSERT INTO attempts (mission_id, group_id, number, sequence, slot, backend, phase, start_commit,
                        branch, worktree, prompt_path, transcript_path, started_at, sandbox)
                    VALUES (?, ?, ?, ?, ?, ?, 'agent', ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    m, start.key.group, start.key.number, start.sequence, start.slot, start.backend,
                    start.startCommit, start.branch, start.worktree, start.promptPath, start.transcriptPath, now,
                    start.sandbox,
                ]
            )
            try db.execute(
                sql: """
                    INSERT INTO claims (mission_id, group_id, attempt_number, holder, acquired_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    m, start.key.group, start.key.number, "agent-\(start.slot)", now,
                    start.claimExpiresAt.timeIntervalSince1970,
                ]
            )
            try db.execute(
                sql: "UPDATE groups SET status = 'active', attempts = attempts + 1 WHERE mission_id = ? AND id = ?",
                arguments: [m, start.key.group]
            )
            try expectChange(db, "group \(start.key.group)")

        case .agentFinished(let key, let report):
            try db.execute(
                sql: """
                    UPDATE attempts SET phase = 'gate', exit_code = ?, signal = ?, timed_out = ?, failure = ?,
                        agent_message = ?, input_tokens = ?, output_tokens = ?, cache_read_tokens = ?,
                        cache_write_tokens = ?, cost_usd = ?, agent_seconds = ?, backend = COALESCE(?, backend)
                    WHERE mission_id = ? AND group_id = ? AND number = ?
                    """,
                arguments: [
                    report.exitCode, report.signal, report.timedOut, report.failure, report.message,
                    report.usage.inputTokens, report.usage.outputTokens, report.usage.cacheReadTokens,
                    report.usage.cacheWriteTokens, report.usage.costUSD, report.duration.seconds, report.backend,
                    m, key.group, key.number,
                ]
            )
            try expectChange(db, "attempt \(key)")

        case .attemptCommitted(let key, let commit, let diff):
            try db.execute(
                sql: """
                    UPDATE attempts SET commit_sha = ?, diff_files = ?, diff_insertions = ?, diff_deletions = ?
                    WHERE mission_id = ? AND group_id = ? AND number = ?
                    """,
                arguments: [commit, diff?.files, diff?.insertions, diff?.deletions, m, key.group, key.number]
            )
            try expectChange(db, "attempt \(key)")

        case .gateFinished(let verification):
            guard let key = verification.attempt else {
                throw LedgerError.invalid("a gate verification needs an attempt")
            }
            try insertVerification(verification, mission: m, at: now, db: db)
            let criteria = verification.criteriaPassed(in: key.group)
            try db.execute(
                sql: """
                    UPDATE attempts SET gate_seconds = ?, criteria_passed = coalesce(?, criteria_passed),
                        phase = CASE WHEN ? THEN 'queued' ELSE phase END
                    WHERE mission_id = ? AND group_id = ? AND number = ?
                    """,
                arguments: [verification.duration.seconds, criteria, verification.passed, m, key.group, key.number]
            )
            try expectChange(db, "attempt \(key)")

        case .mergeStarted(let keys, let targetHead):
            for key in keys {
                // A candidate tried again (deferred, or split from a failed round) starts its merge afresh.
                try db.execute(
                    sql: """
                        INSERT INTO merges (mission_id, group_id, attempt_number, target_before, state, started_at)
                        VALUES (?, ?, ?, ?, 'pending', ?)
                        ON CONFLICT (mission_id, group_id, attempt_number) DO UPDATE SET
                            target_before = excluded.target_before, state = 'pending', merged_commit = NULL,
                            verification_id = NULL, started_at = excluded.started_at, finished_at = NULL
                        """,
                    arguments: [m, key.group, key.number, targetHead, now]
                )
                try db.execute(
                    sql: "UPDATE attempts SET phase = 'merging' WHERE mission_id = ? AND group_id = ? AND number = ?",
                    arguments: [m, key.group, key.number]
                )
                try expectChange(db, "attempt \(key)")
            }

        case .landingVerified(let keys, let commit, let regression):
            let verificationID = try insertVerification(regression, mission: m, at: now, db: db)
            for key in keys {
                try db.execute(
                    sql: """
                        UPDATE merges SET merged_commit = ?, verification_id = ?
                        WHERE mission_id = ? AND group_id = ? AND attempt_number = ? AND state = 'pending'
                        """,
                    arguments: [commit, verificationID, m, key.group, key.number]
                )
                try expectChange(db, "merge of \(key)")
            }

        case .attemptsLanded(let keys, let landedCommit, _):
            for key in keys {
                // Only a landing whose verification of exactly this commit is recorded can land.
                try db.execute(
                    sql: """
                        UPDATE merges SET state = 'landed', finished_at = ?
                        WHERE mission_id = ? AND group_id = ? AND attempt_number = ? AND merged_commit = ?
                            AND verification_id IS NOT NULL
                        """,
                    arguments: [now, m, key.group, key.number, landedCommit]
                )
                try expectChange(db, "verified merge of \(key) as \(landedCommit)")
                try db.execute(
                    sql: """
                        UPDATE attempts SET phase = 'finished', outcome = 'landed', landed_commit = ?, finished_at = ?
                        WHERE mission_id = ? AND group_id = ? AND number = ?
                        """,
                    arguments: [landedCommit, now, m, key.group, key.number]
                )
                try db.execute(
                    sql: """
                        UPDATE groups SET status = 'done', landed_commit = ?, stalled_attempts = 0
                        WHERE mission_id = ? AND id = ?
                        """,
                    arguments: [landedCommit, m, key.group]
                )
                try db.execute(
                    sql: "DELETE FROM claims WHERE mission_id = ? AND group_id = ?",
                    arguments: [m, key.group]
                )
            }

        case .mergeRequeued(let keys, _, let verification):
            if let verification { try insertVerification(verification, mission: m, at: now, db: db) }
            for key in keys {
                try db.execute(
                    sql:
                        "DELETE FROM merges WHERE mission_id = ? AND group_id = ? AND attempt_number = ? AND state = 'pending'",
                    arguments: [m, key.group, key.number]
                )
                try db.execute(
                    sql: "UPDATE attempts SET phase = 'queued' WHERE mission_id = ? AND group_id = ? AND number = ?",
                    arguments: [m, key.group, key.number]
                )
                try expectChange(db, "attempt \(key)")
            }

        case .attemptFailed(let conclusion):
            let key = conclusion.key
            var verificationID: Int64?
            if let verification = conclusion.verification {
                verificationID = try insertVerification(verification, mission: m, at: now, db: db)
            }
            if conclusion.outcome == .conflict || conclusion.outcome == .regression {
                try db.execute(
                    sql: """
                        UPDATE merges SET state = ?, verification_id = ?, merged_commit = ?, finished_at = ?
                        WHERE mission_id = ? AND group_id = ? AND attempt_number = ?
                        """,
                    arguments: [
                        conclusion.outcome.rawValue, verificationID, conclusion.verification?.commit, now,
                        m, key.group, key.number,
                    ]
                )
            }
            // Any other ending (an interrupted landing) leaves no landing behind.
            try db.execute(
                sql: """
                    DELETE FROM merges
                    WHERE mission_id = ? AND group_id = ? AND attempt_number = ? AND state = 'pending'
                    """,
                arguments: [m, key.group, key.number]
            )
            try db.execute(
                sql: """
                    UPDATE attempts SET phase = 'finished', outcome = ?, reason = ?, feedback = ?, finished_at = ?,
                        criteria_passed = coalesce(?, criteria_passed)
                    WHERE mission_id = ? AND group_id = ? AND number = ?
                    """,
                arguments: [
                    conclusion.outcome.rawValue, conclusion.reason, conclusion.feedback, now,
                    conclusion.criteriaPassed, m, key.group, key.number,
                ]
            )
            try expectChange(db, "attempt \(key)")
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
                    conclusion.groupStatus.rawValue, "stalled: \(conclusion.reason)", m, key.group,
                ]
            )
            for dependent in conclusion.blockedDependents {
                try db.execute(
                    sql: """
                        UPDATE groups SET status = 'blocked', blocked_reason = ?
                        WHERE mission_id = ? AND id = ? AND status <> 'done'
                        """,
                    arguments: ["depends on blocked group \(key.group)", m, dependent]
                )
            }
            try db.execute(sql: "DELETE FROM claims WHERE mission_id = ? AND group_id = ?", arguments: [m, key.group])

        case .breakerTripped(let trip):
            try db.execute(
                sql: "UPDATE missions SET breaker_detail = ? WHERE id = ?",
                arguments: [trip.description, m]
            )

        case .groupsApproved(let groups):
            for group in groups {
                try db.execute(
                    sql: """
                        UPDATE groups SET status = 'pending', stalled_attempts = 0, escalation = 'none',
                            blocked_reason = NULL
                        WHERE mission_id = ? AND id = ? AND status = 'blocked'
                        """,
                    arguments: [m, group]
                )
            }

        case .recovered, .refsRestored, .testEditsReverted, .refsMoved, .crashNoticed:
            break

        case .finalVerifyFinished(let verification):
            try insertVerification(verification, mission: m, at: now, db: db)

        case .missionFinished(let reason, _):
            try db.execute(
                sql: """
                    UPDATE missions SET state = ?, stop_reason = ?, finished_at = ?,
                        running_seconds = running_seconds + max(0, ? - coalesce(segment_started_at, ?)),
                        segment_started_at = NULL
                    WHERE id = ?
                    """,
                arguments: [reason.missionState.rawValue, reason.rawValue, now, now, now, m]
            )
            try db.execute(sql: "DELETE FROM claims WHERE mission_id = ?", arguments: [m])

        case .modelCalled(let call):
            try db.execute(
                sql: """
                    INSERT INTO model_calls (mission_id, role, group_id, attempt_number, model, input_tokens,
                        output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, duration_ms, error, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    m, call.role.rawValue, call.attempt?.group, call.attempt?.number, call.model,
                    call.usage.inputTokens, call.usage.outputTokens, call.usage.cacheReadTokens,
                    call.usage.cacheWriteTokens, call.usage.costUSD, call.duration.milliseconds, call.error, now,
                ]
            )
            // A critic's cost is its attempt's, so attempt, group and mission costs include it.
            if let key = call.attempt, call.usage.costUSD > 0 {
                try db.execute(
                    sql:
                        "UPDATE attempts SET cost_usd = cost_usd + ? WHERE mission_id = ? AND group_id = ? AND number = ?",
                    arguments: [call.usage.costUSD, m, key.group, key.number]
                )
                try expectChange(db, "attempt \(key)")
            }
        }
    }

    private static func insertMission(_ spec: MissionSpec, at now: Double, db: Database) throws {
        let m = spec.id.rawValue
        try db.execute(
            sql: """
                INSERT INTO missions (id, goal, repository, base_commit, target_branch, verify_command,
                    protected_patterns, agents, backend, model, max_cost_usd, max_wall_clock_s, max_attempts,
                    attempt_timeout_s, stall_threshold, checklist_json, checklist_source, options_json, state,
                    created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'created', ?)
                """,
            arguments: [
                m, spec.goal, spec.repository, spec.baseCommit, spec.targetBranch, spec.verifyCommand,
                try json(spec.protectedPatterns), spec.agents, spec.backend, spec.model, spec.limits.maxCostUSD,
                spec.limits.maxWallClock?.seconds, spec.limits.maxAttempts, spec.limits.attemptTimeout.seconds,
                spec.limits.stallThreshold, String(decoding: ChecklistJSON.encode(spec.checklist), as: UTF8.self),
                spec.checklistSource, try json(spec.options), now,
            ]
        )
        for (position, group) in spec.checklist.groups.enumerated() {
            try db.execute(
                sql: "INSERT INTO groups (mission_id, id, position, title, check_command) VALUES (?, ?, ?, ?, ?)",
                arguments: [m, group.id, position, group.title, group.check]
            )
            for (index, criterion) in group.criteria.enumerated() {
                try db.execute(
                    sql: "INSERT INTO criteria (mission_id, group_id, position, text) VALUES (?, ?, ?, ?)",
                    arguments: [m, group.id, index, criterion]
                )
            }
        }
        for group in spec.checklist.groups {
            for dependency in group.dependsOn {
                try db.execute(
                    sql: "INSERT INTO dependencies (mission_id, group_id, depends_on) VALUES (?, ?, ?)",
                    arguments: [m, group.id, dependency]
                )
            }
        }
    }

    @discardableResult
    private static func insertVerification(
        _ verification: Verification,
        mission: String,
        at now: Double,
        db: Database
    ) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO verifications (mission_id, group_id, attempt_number, kind, commit_sha, command,
                    groups_checked, landed_groups_checked, exit_code, passed, timed_out, duration_ms, output_tail,
                    report_json, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                mission, verification.attempt?.group, verification.attempt?.number, verification.kind.rawValue,
                verification.commit, verification.command, verification.groups.joined(separator: ","),
                verification.landedGroupsChecked, verification.exitCode, verification.passed, verification.timedOut,
                verification.duration.milliseconds, verification.outputTail,
                try verification.report.map { try json($0) }, now,
            ]
        )
        return db.lastInsertedRowID
    }

    private static func insert(_ event: MissionEvent, db: Database) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO events (mission_id, at, kind, group_id, attempt_number, message, data_json)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                event.mission.rawValue, event.at.timeIntervalSince1970, event.kind.rawValue, event.group,
                event.attempt, event.message, try json(event.data),
            ]
        )
        return db.lastInsertedRowID
    }

    private static func expectChange(_ db: Database, _ what: String) throws {
        if db.changesCount == 0 { throw LedgerError.invalid("\(what) is not in the ledger") }
    }

    /// Folds the write-ahead log into the database file and empties it (for measuring and copying the file).
    package func checkpoint() async throws {
        try await database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    // MARK: - Reads

    package func mission(_ id: MissionID) async throws -> MissionRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: Self.missionQuery + " WHERE m.id = ?", arguments: [id.rawValue])
                .map(Self.missionRecord)
        }
    }

    package func missions(limit: Int? = nil) async throws -> [MissionRecord] {
        try await database.read { db in
            // The ids first, through the index, so the per-mission sums run only for the missions returned.
            try Row.fetchAll(
                db,
                sql: Self.missionQuery + """
                     WHERE m.id IN (SELECT id FROM missions ORDER BY created_at DESC, id DESC LIMIT ?)
                    ORDER BY m.created_at DESC, m.id DESC
                    """,
                arguments: [limit ?? -1]
            ).map(Self.missionRecord)
        }
    }

    /// The missions in `state`, newest first.
    package func missions(state: MissionState) async throws -> [MissionRecord] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: Self.missionQuery + " WHERE m.state = ? ORDER BY m.created_at DESC, m.id DESC",
                arguments: [state.rawValue]
            ).map(Self.missionRecord)
        }
    }

    private static let missionQuery = """
        SELECT m.*,
            (SELECT coalesce(sum(cost_usd), 0) FROM attempts a WHERE a.mission_id = m.id)
                + (SELECT coalesce(sum(cost_usd), 0) FROM model_calls c
                    WHERE c.mission_id = m.id AND c.role = 'planner') AS spent_usd,
            (SELECT count(*) FROM attempts a WHERE a.mission_id = m.id) AS attempt_count,
            (SELECT count(*) FROM groups g WHERE g.mission_id = m.id AND g.status = 'done') AS groups_done,
            (SELECT count(*) FROM groups g WHERE g.mission_id = m.id) AS groups_total
        FROM missions m
        """

    private static func missionRecord(_ row: Row) throws -> MissionRecord {
        let idText: String = row["id"]
        guard let id = MissionID(idText) else { throw LedgerError.invalid("bad mission id \(idText) in the ledger") }
        let checklist = try ChecklistJSON.decode(Data((row["checklist_json"] as String).utf8), file: "ledger")
        let patterns = try JSONDecoder().decode([String].self, from: Data((row["protected_patterns"] as String).utf8))
        let limits = MissionLimits(
            maxCostUSD: row["max_cost_usd"],
            maxWallClock: (row["max_wall_clock_s"] as Double?).map { .seconds(bounded: $0) },
            maxAttempts: row["max_attempts"],
            attemptTimeout: .seconds(bounded: row["attempt_timeout_s"] as Double),
            stallThreshold: row["stall_threshold"]
        )
        let spec = MissionSpec(
            id: id,
            goal: row["goal"],
            repository: row["repository"],
            baseCommit: row["base_commit"],
            targetBranch: row["target_branch"],
            verifyCommand: row["verify_command"],
            protectedPatterns: patterns,
            agents: row["agents"],
            backend: row["backend"],
            model: row["model"],
            limits: limits,
            checklist: checklist,
            checklistSource: row["checklist_source"],
            options: try Self.storedFields(row["options_json"])
        )
        var runner: ProcessIdentity?
        if let pid = row["runner_pid"] as Int32?, let ticks = row["runner_start_ticks"] as Int64? {
            runner = ProcessIdentity(pid: pid, startTicks: UInt64(bitPattern: ticks))
        }
        return MissionRecord(
            spec: spec,
            state: MissionState(rawValue: row["state"]) ?? .failed,
            stopReason: (row["stop_reason"] as String?).flatMap(StopReason.init(rawValue:)),
            breakerDetail: row["breaker_detail"],
            createdAt: date(row["created_at"]) ?? Date(timeIntervalSince1970: 0),
            startedAt: date(row["started_at"]),
            finishedAt: date(row["finished_at"]),
            spentUSD: row["spent_usd"],
            attempts: row["attempt_count"],
            groupsDone: row["groups_done"],
            groupsTotal: row["groups_total"],
            runner: runner,
            runningSeconds: row["running_seconds"]
        )
    }

    package func groups(of mission: MissionID) async throws -> [GroupRecord] {
        try await database.read { db in
            let m = mission.rawValue
            var dependencies: [String: [String]] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT d.group_id, d.depends_on FROM dependencies d
                    JOIN groups g ON g.mission_id = d.mission_id AND g.id = d.depends_on
                    WHERE d.mission_id = ? ORDER BY g.position
                    """,
                arguments: [m]
            ) {
                dependencies[row["group_id"], default: []].append(row["depends_on"])
            }
            var criteria: [String: [String]] = [:]
            for row in try Row.fetchAll(
                db,
                sql: "SELECT group_id, text FROM criteria WHERE mission_id = ? ORDER BY group_id, position",
                arguments: [m]
            ) {
                criteria[row["group_id"], default: []].append(row["text"])
            }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT g.*, (SELECT coalesce(sum(cost_usd), 0) FROM attempts a
                        WHERE a.mission_id = g.mission_id AND a.group_id = g.id) AS cost_usd
                    FROM groups g WHERE g.mission_id = ? ORDER BY g.position
                    """,
                arguments: [m]
            ).map { row in
                let id: String = row["id"]
                return GroupRecord(
                    id: id,
                    position: row["position"],
                    title: row["title"],
                    dependsOn: dependencies[id] ?? [],
                    check: row["check_command"],
                    criteria: criteria[id] ?? [],
                    status: GroupStatus(rawValue: row["status"]) ?? .pending,
                    attempts: row["attempts"],
                    stalledAttempts: row["stalled_attempts"],
                    escalation: Escalation(rawValue: row["escalation"]) ?? .none,
                    bestCriteriaPassed: row["best_criteria_passed"],
                    landedCommit: row["landed_commit"],
                    blockedReason: row["blocked_reason"],
                    costUSD: row["cost_usd"]
                )
            }
        }
    }

    /// Tokens and dollars of an `attempts` or `model_calls` row.
    private static func usage(_ row: Row) -> Usage {
        Usage(
            inputTokens: row["input_tokens"],
            outputTokens: row["output_tokens"],
            cacheReadTokens: row["cache_read_tokens"],
            cacheWriteTokens: row["cache_write_tokens"],
            costUSD: row["cost_usd"]
        )
    }

    /// The attempt a `verifications` or `model_calls` row is about, if any.
    private static func attemptKey(_ row: Row) -> AttemptKey? {
        guard let group = row["group_id"] as String?, let number = row["attempt_number"] as Int? else { return nil }
        return AttemptKey(group: group, number: number)
    }

    package func modelCalls(of mission: MissionID) async throws -> [ModelCallRecord] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM model_calls WHERE mission_id = ? ORDER BY id",
                arguments: [mission.rawValue]
            ).map { row in
                let attempt = Self.attemptKey(row)
                let call = ModelCall(
                    role: ModelCall.Role(rawValue: row["role"]) ?? .planner,
                    attempt: attempt,
                    model: row["model"],
                    usage: Self.usage(row),
                    duration: .milliseconds(row["duration_ms"] as Int64),
                    error: row["error"]
                )
                return ModelCallRecord(call: call, at: Self.date(row["created_at"]) ?? Date(timeIntervalSince1970: 0))
            }
        }
    }

    package func attempts(of mission: MissionID) async throws -> [AttemptRecord] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM attempts WHERE mission_id = ? ORDER BY sequence",
                arguments: [mission.rawValue]
            ).map { row in
                var diff: DiffStat?
                if let files = row["diff_files"] as Int? {
                    diff = DiffStat(
                        files: files,
                        insertions: row["diff_insertions"] ?? 0,
                        deletions: row["diff_deletions"] ?? 0
                    )
                }
                return AttemptRecord(
                    key: AttemptKey(group: row["group_id"], number: row["number"]),
                    sequence: row["sequence"],
                    slot: row["slot"],
                    backend: row["backend"],
                    phase: AttemptPhase(rawValue: row["phase"]) ?? .finished,
                    outcome: (row["outcome"] as String?).flatMap(AttemptOutcome.init(rawValue:)),
                    reason: row["reason"],
                    feedback: row["feedback"],
                    startCommit: row["start_commit"],
                    commit: row["commit_sha"],
                    landedCommit: row["landed_commit"],
                    branch: row["branch"],
                    worktree: row["worktree"],
                    promptPath: row["prompt_path"],
                    transcriptPath: row["transcript_path"],
                    exitCode: row["exit_code"],
                    usage: Self.usage(row),
                    diff: diff,
                    criteriaPassed: row["criteria_passed"],
                    startedAt: Self.date(row["started_at"]) ?? Date(timeIntervalSince1970: 0),
                    agentSeconds: row["agent_seconds"],
                    gateSeconds: row["gate_seconds"],
                    finishedAt: Self.date(row["finished_at"]),
                    sandbox: row["sandbox"]
                )
            }
        }
    }

    package func verifications(of mission: MissionID) async throws -> [VerificationRecord] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM verifications WHERE mission_id = ? ORDER BY id",
                arguments: [mission.rawValue]
            ).map { row in
                let attempt = Self.attemptKey(row)
                let groups: String = row["groups_checked"]
                let verification = Verification(
                    kind: VerificationKind(rawValue: row["kind"]) ?? .gate,
                    attempt: attempt,
                    commit: row["commit_sha"],
                    command: row["command"],
                    groups: groups.isEmpty ? [] : groups.split(separator: ",").map(String.init),
                    landedGroupsChecked: row["landed_groups_checked"],
                    exitCode: row["exit_code"],
                    passed: row["passed"],
                    timedOut: row["timed_out"],
                    duration: .milliseconds(row["duration_ms"] as Int64),
                    outputTail: row["output_tail"],
                    report: try (row["report_json"] as String?).map {
                        try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8))
                    }
                )
                return VerificationRecord(
                    id: row["id"],
                    verification: verification,
                    at: Self.date(row["created_at"]) ?? Date(timeIntervalSince1970: 0)
                )
            }
        }
    }

    package func merges(of mission: MissionID) async throws -> [MergeRecord] {
        let verifications = Dictionary(
            uniqueKeysWithValues: try await self.verifications(of: mission).map { ($0.id, $0.verification) }
        )
        return try await database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM merges WHERE mission_id = ? ORDER BY started_at, group_id",
                arguments: [mission.rawValue]
            ).map { row in
                MergeRecord(
                    attempt: AttemptKey(group: row["group_id"], number: row["attempt_number"]),
                    state: MergeRecord.State(rawValue: row["state"]) ?? .pending,
                    targetBefore: row["target_before"],
                    mergedCommit: row["merged_commit"],
                    verification: (row["verification_id"] as Int64?).flatMap { verifications[$0] }
                )
            }
        }
    }

    package func events(of mission: MissionID, after afterID: Int64, limit: Int) async throws -> [MissionEvent] {
        try await events(
            of: mission,
            sql: "SELECT * FROM events WHERE mission_id = ? AND id > ? ORDER BY id LIMIT ?",
            arguments: [mission.rawValue, afterID, limit]
        )
    }

    /// The mission's events of one kind since `date`, oldest first.
    package func events(of mission: MissionID, kind: EventKind, since date: Date) async throws -> [MissionEvent] {
        try await events(
            of: mission,
            sql: "SELECT * FROM events WHERE mission_id = ? AND kind = ? AND at >= ? ORDER BY id",
            arguments: [mission.rawValue, kind.rawValue, date.timeIntervalSince1970]
        )
    }

    private func events(
        of mission: MissionID,
        sql: String,
        arguments: StatementArguments
    ) async throws
        -> [MissionEvent]
    {
        try await database.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                MissionEvent(
                    id: row["id"],
                    mission: mission,
                    at: Self.date(row["at"]) ?? Date(timeIntervalSince1970: 0),
                    kind: EventKind(rawValue: row["kind"]) ?? .missionCreated,
                    group: row["group_id"],
                    attempt: row["attempt_number"],
                    message: row["message"],
                    data: try JSONDecoder().decode(
                        [String: JSONValue].self,
                        from: Data((row["data_json"] as String).utf8)
                    )
                )
            }
        }
    }

    // MARK: - Monitoring

    /// Aggregates over every mission, computed by SQLite so a scrape reads no rows it does not need.
    package func statistics() async throws -> LedgerStatistics {
        try await database.read { db in
            var statistics = LedgerStatistics()
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM missions GROUP BY state") {
                statistics.missionsByState[row["state"]] = row["n"]
            }
            for row in try Row.fetchAll(
                db,
                sql: "SELECT coalesce(outcome, 'running') AS outcome, count(*) AS n FROM attempts GROUP BY 1"
            ) {
                statistics.attemptsByOutcome[row["outcome"]] = row["n"]
            }
            statistics.costUSD = try Double.fetchOne(db, sql: "SELECT coalesce(sum(cost_usd), 0) FROM attempts") ?? 0
            let live = try Row.fetchOne(
                db,
                sql: """
                    SELECT coalesce(sum(a.phase IN ('queued', 'merging')), 0) AS queued,
                           coalesce(sum(a.phase = 'agent'), 0) AS agents
                    FROM attempts a JOIN missions m ON m.id = a.mission_id WHERE m.state = 'running'
                    """
            )
            statistics.queueDepth = live?["queued"] ?? 0
            statistics.activeAgents = live?["agents"] ?? 0
            statistics.gateSeconds = try Self.histogram(
                db,
                sql: "SELECT duration_ms / 1000.0 AS s FROM verifications WHERE kind = 'gate'"
            )
            statistics.mergeSeconds = try Self.histogram(
                db,
                sql: "SELECT finished_at - started_at AS s FROM merges WHERE finished_at IS NOT NULL"
            )
            return statistics
        }
    }

    /// Buckets the seconds `sql` selects (as column `s`), in SQL: one row comes back, whatever the number of observations.
    private static func histogram(_ db: Database, sql: String) throws -> DurationHistogram {
        let buckets = DurationHistogram.bounds.enumerated()
            .map { "coalesce(sum(s <= \($0.element)), 0) AS b\($0.offset)" }
            .joined(separator: ", ")
        guard
            let row = try Row.fetchOne(
                db,
                sql: "SELECT count(*) AS n, coalesce(sum(s), 0) AS total, \(buckets) FROM (\(sql))"
            )
        else { return DurationHistogram() }
        var histogram = DurationHistogram()
        histogram.count = row["n"]
        histogram.sum = row["total"]
        histogram.cumulativeCounts = DurationHistogram.bounds.indices.map { row["b\($0)"] }
        return histogram
    }

    // MARK: - Webhook deliveries

    /// Records that `key`, sent with the token named `token`, started `mission`.
    ///
    /// Returns the mission an earlier delivery with the same key started instead, recording nothing.
    package func recordDelivery(token: String, key: String, mission: MissionID, at: Date) async throws -> MissionID? {
        try await database.write { db in
            if let existing = try String.fetchOne(
                db,
                sql: "SELECT mission_id FROM deliveries WHERE token_name = ? AND key = ?",
                arguments: [token, key]
            ) {
                return MissionID(existing)
            }
            try db.execute(
                sql: "INSERT INTO deliveries (token_name, key, mission_id, created_at) VALUES (?, ?, ?, ?)",
                arguments: [token, key, mission.rawValue, at.timeIntervalSince1970]
            )
            return nil
        }
    }

    /// The mission a delivery with `key` (sent with the token named `token`) started, if any.
    package func delivery(token: String, key: String) async throws -> MissionID? {
        try await database.read { db in
            try String.fetchOne(
                db,
                sql: "SELECT mission_id FROM deliveries WHERE token_name = ? AND key = ?",
                arguments: [token, key]
            ).flatMap(MissionID.init)
        }
    }

    // MARK: - Helpers

    private static func date(_ seconds: Double?) -> Date? {
        seconds.map { Date(timeIntervalSince1970: $0) }
    }

    private static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Ledger failures, phrased for the person who has to deal with them.
package enum LedgerError: Error, Sendable, CustomStringConvertible {
    case unreadable(path: String, detail: String)
    case rejected(change: String, detail: String)
    case invalid(String)

    package var description: String {
        switch self {
        case .unreadable(let path, let detail):
            "cannot open the ledger \(path): \(detail); check the file's permissions, or move it away to start afresh"
        case .rejected(let change, let detail):
            "the ledger refused \(change): \(detail)"
        case .invalid(let detail):
            "the ledger is inconsistent: \(detail)"
        }
    }
}

extension SQLiteLedger {
    /// Field names missions stored before the fields had one contract.
    private static let renamedFields = [
        "scenario_path": "scenario", "pass_environment": "pass_env", "critic_api": "critic",
        "keep_attempt_branches": "keep_branches",
    ]

    /// A mission's stored fields (`options_json`), as any version of Flotilla wrote them.
    package static func storedFields(_ text: String) throws -> MissionFields {
        var value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        if case .object(var object) = value {
            for (old, new) in renamedFields { if let moved = object.removeValue(forKey: old) { object[new] = moved } }
            value = .object(object)
        }
        return try JSONDecoder().decode(MissionFields.self, from: JSONEncoder().encode(value))
    }
}
