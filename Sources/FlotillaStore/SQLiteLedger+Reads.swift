import FlotillaCore
import Foundation
import GRDB

extension SQLiteLedger {
    package func mission(_ id: MissionID) async throws -> MissionRecord? {
        try await database.read { db in
            try MissionRecord.fetchOne(db, sql: MissionRecord.query + " WHERE m.id = ?", arguments: [id.rawValue])
        }
    }

    package func missions(limit: Int? = nil) async throws -> [MissionRecord] {
        try await database.read { db in
            // The ids first, through the index, so the per-mission sums run only for the missions returned.
            try MissionRecord.fetchAll(
                db,
                sql: MissionRecord.query + """
                     WHERE m.id IN (SELECT id FROM missions ORDER BY created_at DESC, id DESC LIMIT ?)
                    ORDER BY m.created_at DESC, m.id DESC
                    """,
                arguments: [limit ?? -1]
            )
        }
    }

    package func spentSince(_ since: Date, excluding: MissionID?) async throws -> Double {
        try await database.read { db in
            try Double.fetchOne(
                db,
                sql: """
                    SELECT
                        (SELECT coalesce(sum(cost_usd), 0) FROM attempts
                            WHERE coalesce(finished_at, started_at) >= ?1 AND mission_id IS NOT ?2)
                        + (SELECT coalesce(sum(cost_usd), 0) FROM model_calls
                            WHERE attempt_number IS NULL AND created_at >= ?1 AND mission_id IS NOT ?2)
                    """,
                arguments: [since.timeIntervalSince1970, excluding?.rawValue]
            ) ?? 0
        }
    }

    /// The missions in `state`, newest first.
    package func missions(state: MissionState) async throws -> [MissionRecord] {
        try await database.read { db in
            try MissionRecord.fetchAll(
                db,
                sql: MissionRecord.query + " WHERE m.state = ? ORDER BY m.created_at DESC, m.id DESC",
                arguments: [state.rawValue]
            )
        }
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
            return try GroupRecord.fetchAll(db, sql: GroupRecord.query, arguments: [m]).map { group in
                var group = group
                group.dependsOn = dependencies[group.id] ?? []
                group.criteria = criteria[group.id] ?? []
                return group
            }
        }
    }

    package func modelCalls(of mission: MissionID) async throws -> [ModelCallRecord] {
        try await rows(of: mission, from: "model_calls", orderedBy: "id")
    }

    /// Every try of a pipeline step in the mission, attempt by attempt, in the order they ran.
    package func steps(of mission: MissionID) async throws -> [AttemptStepRecord] {
        try await rows(of: mission, from: "attempt_steps", orderedBy: "group_id, attempt_number, position")
    }

    package func attempts(of mission: MissionID) async throws -> [AttemptRecord] {
        try await rows(of: mission, from: "attempts", orderedBy: "sequence")
    }

    package func verifications(of mission: MissionID) async throws -> [VerificationRecord] {
        try await rows(of: mission, from: "verifications", orderedBy: "id")
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
                var merge = try MergeRecord(row: row)
                merge.verification = (row["verification_id"] as Int64?).flatMap { verifications[$0] }
                return merge
            }
        }
    }

    package func events(of mission: MissionID, after afterID: Int64, limit: Int) async throws -> [MissionEvent] {
        try await events(
            sql: "SELECT * FROM events WHERE mission_id = ? AND id > ? ORDER BY id LIMIT ?",
            arguments: [mission.rawValue, afterID, limit]
        )
    }

    /// The mission's events of one kind since `date`, oldest first.
    package func events(of mission: MissionID, kind: EventKind, since date: Date) async throws -> [MissionEvent] {
        try await events(
            sql: "SELECT * FROM events WHERE mission_id = ? AND kind = ? AND at >= ? ORDER BY id",
            arguments: [mission.rawValue, kind.rawValue, date.timeIntervalSince1970]
        )
    }

    private func events(sql: String, arguments: StatementArguments) async throws -> [MissionEvent] {
        try await database.read { db in
            try MissionEvent.fetchAll(db, sql: sql, arguments: arguments)
        }
    }

    /// The rows of `table` that belong to `mission`, in `order`.
    private func rows<Record: FetchableRecord & Sendable>(
        of mission: MissionID,
        from table: String,
        orderedBy order: String
    ) async throws -> [Record] {
        try await database.read { db in
            try Record.fetchAll(
                db,
                sql: "SELECT * FROM \(table) WHERE mission_id = ? ORDER BY \(order)",
                arguments: [mission.rawValue]
            )
        }
    }
}
