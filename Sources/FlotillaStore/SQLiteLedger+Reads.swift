import FlotillaCore
import Foundation
import GRDB

extension SQLiteLedger {
    package func mission(_ id: MissionID) async throws -> MissionRecord? {
        try await database.read { db in
            try MissionRow.fetchOne(db, sql: MissionRow.query + " WHERE m.id = ?", arguments: [id.rawValue])?.record()
        }
    }

    package func missions(limit: Int? = nil) async throws -> [MissionRecord] {
        try await database.read { db in
            // The ids first, through the index, so the per-mission sums run only for the missions returned.
            try MissionRow.fetchAll(
                db,
                sql: MissionRow.query + """
                     WHERE m.id IN (SELECT id FROM missions ORDER BY created_at DESC, id DESC LIMIT ?)
                    ORDER BY m.created_at DESC, m.id DESC
                    """,
                arguments: [limit ?? -1]
            ).map { try $0.record() }
        }
    }

    /// The missions in `state`, newest first.
    package func missions(state: MissionState) async throws -> [MissionRecord] {
        try await database.read { db in
            try MissionRow.fetchAll(
                db,
                sql: MissionRow.query + " WHERE m.state = ? ORDER BY m.created_at DESC, m.id DESC",
                arguments: [state.rawValue]
            ).map { try $0.record() }
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
            return try GroupRow.fetchAll(db, sql: GroupRow.query, arguments: [m]).map {
                try $0.record(dependsOn: dependencies[$0.id] ?? [], criteria: criteria[$0.id] ?? [])
            }
        }
    }

    package func modelCalls(of mission: MissionID) async throws -> [ModelCallRecord] {
        try await database.read { db in
            try ModelCallRow.fetchAll(
                db,
                sql: "SELECT * FROM model_calls WHERE mission_id = ? ORDER BY id",
                arguments: [mission.rawValue]
            ).map { try $0.record() }
        }
    }

    package func attempts(of mission: MissionID) async throws -> [AttemptRecord] {
        try await database.read { db in
            try AttemptRow.fetchAll(
                db,
                sql: "SELECT * FROM attempts WHERE mission_id = ? ORDER BY sequence",
                arguments: [mission.rawValue]
            ).map { try $0.record() }
        }
    }

    package func verifications(of mission: MissionID) async throws -> [VerificationRecord] {
        try await database.read { db in
            try VerificationRow.fetchAll(
                db,
                sql: "SELECT * FROM verifications WHERE mission_id = ? ORDER BY id",
                arguments: [mission.rawValue]
            ).map { try $0.record() }
        }
    }

    package func merges(of mission: MissionID) async throws -> [MergeRecord] {
        let verifications = Dictionary(
            uniqueKeysWithValues: try await self.verifications(of: mission).map { ($0.id, $0.verification) }
        )
        return try await database.read { db in
            try MergeRow.fetchAll(
                db,
                sql: "SELECT * FROM merges WHERE mission_id = ? ORDER BY started_at, group_id",
                arguments: [mission.rawValue]
            ).map { try $0.record(verifications: verifications) }
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
            try EventRow.fetchAll(db, sql: sql, arguments: arguments).map { try $0.record() }
        }
    }
}
