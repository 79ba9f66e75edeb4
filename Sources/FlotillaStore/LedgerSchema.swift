import Foundation
import GRDB

/// The ledger's schema, as numbered migrations.
///
/// Never edit a shipped migration; add the next one.
enum LedgerSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: missions, groups, attempts, claims, verifications, merges, events") { db in
            try db.execute(sql: v1)
        }
        migrator.registerMigration("v2: index missions by creation, for the latest mission") { db in
            try db.execute(sql: "CREATE INDEX missions_by_creation ON missions(created_at, id)")
        }
        migrator.registerMigration("v3: count, rather than list, the landed groups a regression verify rechecked") {
            db in
            try db.execute(
                sql: """
                    ALTER TABLE verifications ADD COLUMN landed_groups_checked INTEGER NOT NULL DEFAULT 0
                        CHECK (landed_groups_checked >= 0)
                    """
            )
        }
        migrator.registerMigration("v4: runs — options, runner process, running time; webhook deliveries") { db in
            try db.execute(
                sql: """
                    ALTER TABLE missions ADD COLUMN options_json TEXT NOT NULL DEFAULT '{}';
                    ALTER TABLE missions ADD COLUMN runner_pid INTEGER;
                    ALTER TABLE missions ADD COLUMN runner_start_ticks INTEGER;
                    ALTER TABLE missions ADD COLUMN running_seconds REAL NOT NULL DEFAULT 0
                        CHECK (running_seconds >= 0);
                    ALTER TABLE missions ADD COLUMN segment_started_at REAL;
                    CREATE TABLE deliveries (
                        token_name TEXT NOT NULL,
                        key TEXT NOT NULL CHECK (key <> ''),
                        mission_id TEXT NOT NULL REFERENCES missions(id) ON DELETE CASCADE,
                        created_at REAL NOT NULL,
                        PRIMARY KEY (token_name, key)
                    );
                    """
            )
        }
        migrator.registerMigration("v5: model calls — every planner and critic call with its usage") { db in
            try db.execute(
                sql: """
                    CREATE TABLE model_calls (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        mission_id TEXT NOT NULL REFERENCES missions(id) ON DELETE CASCADE,
                        role TEXT NOT NULL CHECK (role IN ('planner', 'critic')),
                        group_id TEXT,
                        attempt_number INTEGER,
                        model TEXT NOT NULL,
                        input_tokens INTEGER NOT NULL CHECK (input_tokens >= 0),
                        output_tokens INTEGER NOT NULL CHECK (output_tokens >= 0),
                        cache_read_tokens INTEGER NOT NULL CHECK (cache_read_tokens >= 0),
                        cache_write_tokens INTEGER NOT NULL CHECK (cache_write_tokens >= 0),
                        cost_usd REAL NOT NULL CHECK (cost_usd >= 0),
                        duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
                        error TEXT,
                        created_at REAL NOT NULL,
                        CHECK ((role = 'critic') = (attempt_number IS NOT NULL))
                    );
                    CREATE INDEX model_calls_by_mission ON model_calls (mission_id, id);
                    """
            )
        }
        migrator.registerMigration("v6: the sandbox each attempt ran in") { db in
            try db.execute(sql: "ALTER TABLE attempts ADD COLUMN sandbox TEXT")
        }
        migrator.registerMigration("v7: notification targets per mission, and the outbox of notifications") { db in
            try db.execute(
                sql: """
                    CREATE TABLE notify_targets (
                        mission_id TEXT NOT NULL REFERENCES missions(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        target_json TEXT NOT NULL,
                        PRIMARY KEY (mission_id, name)
                    );
                    -- The outbox: filled in the transaction of the event it tells about, emptied by whichever
                    -- process (the mission's, or a daemon) claims a due row first; a claim expires, so a process
                    -- that dies mid-delivery loses nothing.
                    CREATE TABLE notifications (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        mission_id TEXT NOT NULL REFERENCES missions(id) ON DELETE CASCADE,
                        event_id INTEGER NOT NULL,
                        target TEXT NOT NULL,
                        target_json TEXT NOT NULL,
                        payload_json TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
                        failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
                        next_at REAL NOT NULL,
                        claimed_until REAL,
                        last_error TEXT,
                        created_at REAL NOT NULL,
                        finished_at REAL,
                        UNIQUE (event_id, target)
                    );
                    CREATE INDEX notifications_due ON notifications (state, next_at);
                    """
            )
        }
        migrator.registerMigration("v8: approvals — verified landings and finished missions waiting for a human") {
            db in
            try db.execute(
                sql: """
                    CREATE TABLE approvals (
                        mission_id TEXT NOT NULL REFERENCES missions(id) ON DELETE CASCADE,
                        -- '' and 1, 2, … (one per run that reached the end) for the finished mission itself.
                        group_id TEXT NOT NULL,
                        attempt_number INTEGER NOT NULL CHECK (attempt_number >= 1),
                        requested_at REAL NOT NULL,
                        decision TEXT CHECK (decision IS NULL OR decision IN ('approved', 'rejected')),
                        reason TEXT,
                        decided_by TEXT,
                        decided_at REAL,
                        PRIMARY KEY (mission_id, group_id, attempt_number),
                        CHECK ((decision IS NULL) = (decided_by IS NULL))
                    );
                    """
            )
        }
        migrator.registerMigration("v9: model calls of the reviewer and the architect, which read an attempt") { db in
            try db.execute(
                sql: """
                    CREATE TABLE model_calls_v9 (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        mission_id TEXT NOT NULL REFERENCES missions(id) ON DELETE CASCADE,
                        role TEXT NOT NULL CHECK (role IN ('planner', 'critic', 'reviewer', 'architect')),
                        group_id TEXT,
                        attempt_number INTEGER,
                        model TEXT NOT NULL,
                        input_tokens INTEGER NOT NULL CHECK (input_tokens >= 0),
                        output_tokens INTEGER NOT NULL CHECK (output_tokens >= 0),
                        cache_read_tokens INTEGER NOT NULL CHECK (cache_read_tokens >= 0),
                        cache_write_tokens INTEGER NOT NULL CHECK (cache_write_tokens >= 0),
                        cost_usd REAL NOT NULL CHECK (cost_usd >= 0),
                        duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
                        error TEXT,
                        created_at REAL NOT NULL,
                        CHECK ((role <> 'planner') = (attempt_number IS NOT NULL))
                    );
                    INSERT INTO model_calls_v9 SELECT * FROM model_calls;
                    DROP TABLE model_calls;
                    ALTER TABLE model_calls_v9 RENAME TO model_calls;
                    CREATE INDEX model_calls_by_mission ON model_calls (mission_id, id);
                    """
            )
        }
        migrator.registerMigration(
            "v10: objective checks, groups added while running, one claim per best-of-N candidate"
        ) { db in
            try db.execute(
                sql: """
                    CREATE TABLE model_calls_v10 (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        mission_id TEXT NOT NULL REFERENCES missions(id) ON DELETE CASCADE,
                        role TEXT NOT NULL
                            CHECK (role IN ('planner', 'critic', 'reviewer', 'architect', 'objective')),
                        group_id TEXT,
                        attempt_number INTEGER,
                        model TEXT NOT NULL,
                        input_tokens INTEGER NOT NULL CHECK (input_tokens >= 0),
                        output_tokens INTEGER NOT NULL CHECK (output_tokens >= 0),
                        cache_read_tokens INTEGER NOT NULL CHECK (cache_read_tokens >= 0),
                        cache_write_tokens INTEGER NOT NULL CHECK (cache_write_tokens >= 0),
                        cost_usd REAL NOT NULL CHECK (cost_usd >= 0),
                        duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
                        error TEXT,
                        created_at REAL NOT NULL,
                        CHECK ((role IN ('planner', 'objective')) = (attempt_number IS NULL))
                    );
                    INSERT INTO model_calls_v10 SELECT * FROM model_calls;
                    DROP TABLE model_calls;
                    ALTER TABLE model_calls_v10 RENAME TO model_calls;
                    CREATE INDEX model_calls_by_mission ON model_calls (mission_id, id);
                    ALTER TABLE groups ADD COLUMN added_by TEXT;
                    CREATE TABLE claims_v10 (
                        mission_id TEXT NOT NULL,
                        group_id TEXT NOT NULL,
                        attempt_number INTEGER NOT NULL,
                        holder TEXT NOT NULL,
                        acquired_at REAL NOT NULL,
                        expires_at REAL NOT NULL CHECK (expires_at > acquired_at),
                        PRIMARY KEY (mission_id, group_id, attempt_number),
                        FOREIGN KEY (mission_id, group_id, attempt_number)
                            REFERENCES attempts(mission_id, group_id, number) ON DELETE CASCADE
                    );
                    INSERT INTO claims_v10 SELECT mission_id, group_id, attempt_number, holder, acquired_at, expires_at
                        FROM claims;
                    DROP TABLE claims;
                    ALTER TABLE claims_v10 RENAME TO claims;
                    """
            )
        }
        migrator.registerMigration("v11: an attempt may end disputed, when its agent says the criterion cannot be met")
        {
            db in
            // SQLite cannot change a CHECK in place: the table is rebuilt from its own definition, one word added.
            let definition = try String.fetchOne(
                db,
                sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'attempts'"
            )
            guard let definition, definition.contains("'interrupted')") else {
                throw DatabaseError(message: "the attempts table has no outcome list to extend")
            }
            let rebuilt =
                definition
                .replacingOccurrences(of: "'interrupted')", with: "'interrupted','disputed')")
                .replacingOccurrences(of: "CREATE TABLE attempts", with: "CREATE TABLE attempts_v11")
            try db.execute(
                sql: """
                    \(rebuilt);
                    INSERT INTO attempts_v11 SELECT * FROM attempts;
                    DROP TABLE attempts;
                    ALTER TABLE attempts_v11 RENAME TO attempts;
                    CREATE INDEX attempts_by_mission ON attempts(mission_id, sequence);
                    """
            )
        }
        migrator.registerMigration(
            "v12: why a landing waits for a person when the mission asks no approvals; the hack check's model calls"
        ) { db in
            try db.execute(sql: "ALTER TABLE approvals ADD COLUMN hold TEXT")
            let definition = try String.fetchOne(
                db,
                sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'model_calls'"
            )
            let roles = "'architect', 'objective'))"
            guard let definition, definition.contains(roles) else {
                throw DatabaseError(message: "the model_calls table has no role list to extend")
            }
            // A renamed table's definition reads `CREATE TABLE "model_calls" (`: the name is replaced up to `(`.
            let columns = definition.replacingOccurrences(of: roles, with: "'architect', 'objective', 'hack_check'))")
            let rebuilt =
                "CREATE TABLE model_calls_v12 " + columns[(columns.firstIndex(of: "(") ?? columns.startIndex)...]
            try db.execute(
                sql: """
                    \(rebuilt);
                    INSERT INTO model_calls_v12 SELECT * FROM model_calls;
                    DROP TABLE model_calls;
                    ALTER TABLE model_calls_v12 RENAME TO model_calls;
                    CREATE INDEX model_calls_by_mission ON model_calls (mission_id, id);
                    """
            )
        }
        migrator.registerMigration(
            "v13: missions a person terminated or declared complete, and `flotilla step`'s allowance of attempts"
        ) { db in
            let definition = try String.fetchOne(
                db,
                sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'missions'"
            )
            let reasons = "'max_attempts','stopped','failed')"
            guard let definition, definition.contains(reasons) else {
                throw DatabaseError(message: "the missions table has no stop reason list to extend")
            }
            let columns = definition.replacingOccurrences(
                of: reasons,
                with: "'max_attempts','stopped','failed','terminated','forced_complete','step_limit')"
            )
            let rebuilt = "CREATE TABLE missions_v13 " + columns[(columns.firstIndex(of: "(") ?? columns.startIndex)...]
            // Foreign keys are off during migrations (GRDB checks them at the end): the rows that reference a
            // mission survive its table's rebuild.
            try db.execute(
                sql: """
                    \(rebuilt);
                    INSERT INTO missions_v13 SELECT * FROM missions;
                    DROP TABLE missions;
                    ALTER TABLE missions_v13 RENAME TO missions;
                    CREATE INDEX missions_by_creation ON missions(created_at, id);
                    ALTER TABLE missions ADD COLUMN pause_after_attempts INTEGER
                        CHECK (pause_after_attempts IS NULL OR pause_after_attempts >= 0);
                    """
            )
        }
        migrator.registerMigration(
            "v14: pipelines — the ones a mission runs, and every try of their steps; a daemon's queue of missions"
        ) { db in
            try db.execute(
                sql: """
                    ALTER TABLE missions ADD COLUMN pipelines_json TEXT NOT NULL DEFAULT '[]';
                    ALTER TABLE missions ADD COLUMN queued_at REAL;
                    CREATE TABLE attempt_steps (
                        mission_id TEXT NOT NULL,
                        group_id TEXT NOT NULL,
                        attempt_number INTEGER NOT NULL,
                        position INTEGER NOT NULL CHECK (position >= 1),
                        step TEXT NOT NULL CHECK (step <> ''),
                        number INTEGER NOT NULL CHECK (number >= 1),
                        loop INTEGER NOT NULL CHECK (loop >= 0),
                        try INTEGER NOT NULL CHECK (try >= 1),
                        backend TEXT NOT NULL,
                        model TEXT,
                        status TEXT NOT NULL CHECK (status IN ('success','failed','timeout','discarded')),
                        reason TEXT,
                        change_status TEXT NOT NULL CHECK (change_status IN ('changed','no_changes')),
                        cost_usd REAL NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
                        input_tokens INTEGER NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
                        output_tokens INTEGER NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
                        snapshot TEXT,
                        record_json TEXT NOT NULL,
                        started_at REAL NOT NULL,
                        finished_at REAL NOT NULL CHECK (finished_at >= started_at),
                        PRIMARY KEY (mission_id, group_id, attempt_number, position),
                        UNIQUE (mission_id, group_id, attempt_number, number, loop, try),
                        FOREIGN KEY (mission_id, group_id, attempt_number)
                            REFERENCES attempts(mission_id, group_id, number) ON DELETE CASCADE
                    );
                    """
            )
        }
        migrator.registerMigration("v15: schedules — each slot of a schedule, claimed once, and what it did") { db in
            try db.execute(
                sql: """
                    CREATE TABLE schedule_slots (
                        schedule TEXT NOT NULL CHECK (schedule <> ''),
                        slot_at REAL NOT NULL,
                        fired_at REAL NOT NULL,
                        outcome TEXT NOT NULL CHECK (outcome IN ('firing','started','skipped','failed')),
                        mission_id TEXT REFERENCES missions(id) ON DELETE SET NULL,
                        reason TEXT,
                        PRIMARY KEY (schedule, slot_at)
                    );
                    """
            )
        }
        return migrator
    }

    private static let missionStates = "'created','running','completed','blocked','failed','stopped'"
    private static let stopReasons =
        "'completed','blocked','max_cost','max_wall_clock','max_attempts','stopped','failed'"
    private static let outcomes =
        "'landed','gate_failed','rejected','conflict','regression','timed_out','agent_failed','interrupted'"

    private static let v1 = """
        CREATE TABLE missions (
            id TEXT PRIMARY KEY NOT NULL
                CHECK (length(id) = 10 AND id GLOB 'm-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'),
            goal TEXT NOT NULL,
            repository TEXT NOT NULL,
            base_commit TEXT NOT NULL CHECK (length(base_commit) >= 40),
            target_branch TEXT NOT NULL CHECK (target_branch <> ''),
            verify_command TEXT,
            protected_patterns TEXT NOT NULL,
            agents INTEGER NOT NULL CHECK (agents >= 1),
            backend TEXT NOT NULL,
            model TEXT,
            max_cost_usd REAL CHECK (max_cost_usd IS NULL OR max_cost_usd >= 0),
            max_wall_clock_s REAL CHECK (max_wall_clock_s IS NULL OR max_wall_clock_s > 0),
            max_attempts INTEGER CHECK (max_attempts IS NULL OR max_attempts >= 1),
            attempt_timeout_s REAL NOT NULL CHECK (attempt_timeout_s > 0),
            stall_threshold INTEGER NOT NULL CHECK (stall_threshold >= 1),
            checklist_json TEXT NOT NULL,
            checklist_source TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN (\(missionStates))),
            stop_reason TEXT CHECK (stop_reason IS NULL OR stop_reason IN (\(stopReasons))),
            breaker_detail TEXT,
            created_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            CHECK ((state IN ('completed','blocked','failed','stopped')) = (stop_reason IS NOT NULL))
        );

        CREATE TABLE groups (
            mission_id TEXT NOT NULL REFERENCES missions(id) ON DELETE CASCADE,
            id TEXT NOT NULL CHECK (id <> ''),
            position INTEGER NOT NULL CHECK (position >= 0),
            title TEXT NOT NULL,
            check_command TEXT,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','active','done','blocked')),
            attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            stalled_attempts INTEGER NOT NULL DEFAULT 0 CHECK (stalled_attempts >= 0),
            escalation TEXT NOT NULL DEFAULT 'none' CHECK (escalation IN ('none','strategy_change')),
            best_criteria_passed INTEGER,
            landed_commit TEXT,
            blocked_reason TEXT,
            PRIMARY KEY (mission_id, id),
            UNIQUE (mission_id, position),
            CHECK ((status = 'done') = (landed_commit IS NOT NULL))
        );

        CREATE TABLE criteria (
            mission_id TEXT NOT NULL,
            group_id TEXT NOT NULL,
            position INTEGER NOT NULL CHECK (position >= 0),
            text TEXT NOT NULL CHECK (text <> ''),
            PRIMARY KEY (mission_id, group_id, position),
            FOREIGN KEY (mission_id, group_id) REFERENCES groups(mission_id, id) ON DELETE CASCADE
        );

        CREATE TABLE dependencies (
            mission_id TEXT NOT NULL,
            group_id TEXT NOT NULL,
            depends_on TEXT NOT NULL,
            PRIMARY KEY (mission_id, group_id, depends_on),
            FOREIGN KEY (mission_id, group_id) REFERENCES groups(mission_id, id) ON DELETE CASCADE,
            FOREIGN KEY (mission_id, depends_on) REFERENCES groups(mission_id, id) ON DELETE CASCADE,
            CHECK (group_id <> depends_on)
        );

        CREATE TABLE attempts (
            mission_id TEXT NOT NULL,
            group_id TEXT NOT NULL,
            number INTEGER NOT NULL CHECK (number >= 1),
            sequence INTEGER NOT NULL CHECK (sequence >= 1),
            slot INTEGER NOT NULL CHECK (slot >= 1),
            backend TEXT NOT NULL,
            phase TEXT NOT NULL CHECK (phase IN ('agent','gate','queued','merging','finished')),
            outcome TEXT CHECK (outcome IS NULL OR outcome IN (\(outcomes))),
            reason TEXT,
            feedback TEXT,
            start_commit TEXT NOT NULL,
            commit_sha TEXT,
            landed_commit TEXT,
            branch TEXT NOT NULL,
            worktree TEXT NOT NULL,
            prompt_path TEXT NOT NULL,
            transcript_path TEXT NOT NULL,
            exit_code INTEGER,
            signal INTEGER,
            timed_out INTEGER NOT NULL DEFAULT 0 CHECK (timed_out IN (0, 1)),
            failure TEXT,
            agent_message TEXT,
            input_tokens INTEGER NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
            output_tokens INTEGER NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
            cache_read_tokens INTEGER NOT NULL DEFAULT 0 CHECK (cache_read_tokens >= 0),
            cache_write_tokens INTEGER NOT NULL DEFAULT 0 CHECK (cache_write_tokens >= 0),
            cost_usd REAL NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
            diff_files INTEGER,
            diff_insertions INTEGER,
            diff_deletions INTEGER,
            criteria_passed INTEGER,
            started_at REAL NOT NULL,
            agent_seconds REAL,
            gate_seconds REAL,
            finished_at REAL,
            PRIMARY KEY (mission_id, group_id, number),
            UNIQUE (mission_id, sequence),
            FOREIGN KEY (mission_id, group_id) REFERENCES groups(mission_id, id) ON DELETE CASCADE,
            CHECK ((phase = 'finished') = (outcome IS NOT NULL)),
            CHECK (outcome IS NOT 'landed' OR landed_commit IS NOT NULL)
        );

        CREATE TABLE claims (
            mission_id TEXT NOT NULL,
            group_id TEXT NOT NULL,
            attempt_number INTEGER NOT NULL,
            holder TEXT NOT NULL,
            acquired_at REAL NOT NULL,
            expires_at REAL NOT NULL CHECK (expires_at > acquired_at),
            PRIMARY KEY (mission_id, group_id),
            FOREIGN KEY (mission_id, group_id, attempt_number)
                REFERENCES attempts(mission_id, group_id, number) ON DELETE CASCADE
        );

        CREATE TABLE verifications (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            mission_id TEXT NOT NULL REFERENCES missions(id) ON DELETE CASCADE,
            group_id TEXT,
            attempt_number INTEGER,
            kind TEXT NOT NULL CHECK (kind IN ('gate','regression','final')),
            commit_sha TEXT NOT NULL CHECK (length(commit_sha) >= 40),
            command TEXT NOT NULL,
            groups_checked TEXT NOT NULL,
            exit_code INTEGER,
            passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
            timed_out INTEGER NOT NULL CHECK (timed_out IN (0, 1)),
            duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
            output_tail TEXT NOT NULL,
            report_json TEXT,
            created_at REAL NOT NULL,
            FOREIGN KEY (mission_id, group_id, attempt_number)
                REFERENCES attempts(mission_id, group_id, number) ON DELETE CASCADE,
            CHECK (passed = 0 OR (exit_code = 0 AND timed_out = 0)),
            CHECK ((kind = 'final') = (attempt_number IS NULL))
        );

        CREATE TABLE merges (
            mission_id TEXT NOT NULL,
            group_id TEXT NOT NULL,
            attempt_number INTEGER NOT NULL,
            target_before TEXT NOT NULL,
            merged_commit TEXT,
            state TEXT NOT NULL CHECK (state IN ('pending','landed','conflict','regression')),
            verification_id INTEGER REFERENCES verifications(id),
            started_at REAL NOT NULL,
            finished_at REAL,
            PRIMARY KEY (mission_id, group_id, attempt_number),
            FOREIGN KEY (mission_id, group_id, attempt_number)
                REFERENCES attempts(mission_id, group_id, number) ON DELETE CASCADE,
            CHECK (state <> 'landed' OR (merged_commit IS NOT NULL AND verification_id IS NOT NULL))
        );
        -- A group lands at most once per mission, whatever happens.
        CREATE UNIQUE INDEX merges_one_landing_per_group ON merges(mission_id, group_id) WHERE state = 'landed';

        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            mission_id TEXT NOT NULL REFERENCES missions(id) ON DELETE CASCADE,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            group_id TEXT,
            attempt_number INTEGER,
            message TEXT NOT NULL,
            data_json TEXT NOT NULL
        );
        CREATE INDEX events_by_mission ON events(mission_id, id);
        CREATE INDEX attempts_by_mission ON attempts(mission_id, sequence);
        CREATE INDEX verifications_by_mission ON verifications(mission_id, id);
        """
}
