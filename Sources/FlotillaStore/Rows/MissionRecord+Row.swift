import FlotillaCore
import Foundation
import GRDB

extension MissionRecord: FetchableRecord {
    /// The query every mission read uses: the row with its sums (spent, attempts, groups), computed by SQLite.
    static let query = """
        SELECT m.*,
            (SELECT coalesce(sum(cost_usd), 0) FROM attempts a WHERE a.mission_id = m.id)
                + (SELECT coalesce(sum(cost_usd), 0) FROM model_calls c
                    WHERE c.mission_id = m.id AND c.role = 'planner') AS spent_usd,
            (SELECT count(*) FROM attempts a WHERE a.mission_id = m.id) AS attempt_count,
            (SELECT count(*) FROM groups g WHERE g.mission_id = m.id AND g.status = 'done') AS groups_done,
            (SELECT count(*) FROM groups g WHERE g.mission_id = m.id) AS groups_total
        FROM missions m
        """

    /// A row of ``query``.
    package init(row: Row) throws {
        let column = StoredRow(row, table: "missions") { StoredRow.text($0, "id") }
        guard let id = MissionID(try column("id")) else {
            throw LedgerError.invalid("\(column.name): not a mission id")
        }
        let checklist: Checklist
        do {
            checklist = try ChecklistJSON.decode(Data((try column("checklist_json") as String).utf8), file: "ledger")
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.invalid("\(column.name): checklist_json: \(error)")
        }
        let spec = MissionSpec(
            id: id,
            goal: try column("goal"),
            repository: try column("repository"),
            baseCommit: try column("base_commit"),
            targetBranch: try column("target_branch"),
            verifyCommand: try column("verify_command"),
            protectedPatterns: try column.json("protected_patterns"),
            agents: try column("agents"),
            backend: try column("backend"),
            model: try column("model"),
            limits: MissionLimits(
                maxCostUSD: try column("max_cost_usd"),
                maxWallClock: (try column("max_wall_clock_s") as Double?).map { .seconds(bounded: $0) },
                maxAttempts: try column("max_attempts"),
                attemptTimeout: .seconds(bounded: try column("attempt_timeout_s")),
                stallThreshold: try column("stall_threshold")
            ),
            checklist: checklist,
            checklistSource: try column("checklist_source"),
            options: try MissionFields.stored(try column("options_json"), row: column.name),
            pipelines: try column.json("pipelines_json")
        )
        var runner: ProcessIdentity?
        if let pid: Int32 = try column("runner_pid"), let ticks: Int64 = try column("runner_start_ticks") {
            runner = ProcessIdentity(pid: pid, startTicks: UInt64(bitPattern: ticks))
        }
        self.init(
            spec: spec,
            state: try column.known("state"),
            stopReason: try column.knownIfPresent("stop_reason"),
            breakerDetail: try column("breaker_detail"),
            createdAt: try column.date("created_at"),
            startedAt: try column.dateIfPresent("started_at"),
            finishedAt: try column.dateIfPresent("finished_at"),
            spentUSD: try column("spent_usd"),
            attempts: try column("attempt_count"),
            groupsDone: try column("groups_done"),
            groupsTotal: try column("groups_total"),
            runner: runner,
            runningSeconds: try column("running_seconds"),
            pauseAfterAttempts: try column("pause_after_attempts"),
            queuedAt: try column.dateIfPresent("queued_at")
        )
    }
}

extension MissionFields {
    /// Field names missions stored before the fields had one contract.
    private static let renamedFields = [
        "scenario_path": "scenario", "pass_environment": "pass_env", "critic_api": "critic",
        "keep_attempt_branches": "keep_branches",
    ]

    /// A mission's stored fields (`options_json`), as any version of Flotilla wrote them.
    package static func stored(_ text: String, row: String = "missions") throws -> MissionFields {
        do {
            var value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            if case .object(var object) = value {
                for (old, new) in renamedFields {
                    if let moved = object.removeValue(forKey: old) { object[new] = moved }
                }
                // `architect` was a flag before it named a model: on meant the critic's.
                if case .bool(let on)? = object["architect"] { object["architect"] = on ? "critic" : nil }
                value = .object(object)
            }
            return try JSONDecoder().decode(MissionFields.self, from: JSONEncoder().encode(value))
        } catch {
            throw LedgerError.invalid("\(row): options_json: \(error)")
        }
    }
}
