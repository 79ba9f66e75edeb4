import FlotillaCore
import Foundation
import GRDB

extension SQLiteLedger {
    /// Claims a schedule's slot: true for the one caller that gets it, false for every later one (another daemon, or
    /// this one after a restart), so that a slot fires at most once.
    package func claimScheduleSlot(_ schedule: String, at slot: Date, now: Date) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO schedule_slots (schedule, slot_at, fired_at, outcome) VALUES (?, ?, ?, 'firing')
                    ON CONFLICT (schedule, slot_at) DO NOTHING
                    """,
                arguments: [schedule, slot.timeIntervalSince1970, now.timeIntervalSince1970]
            )
            return db.changesCount == 1
        }
    }

    /// Records what a claimed slot did.
    package func settleScheduleSlot(_ settled: ScheduleSlot) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO schedule_slots (schedule, slot_at, fired_at, outcome, mission_id, reason)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (schedule, slot_at) DO UPDATE SET
                        outcome = excluded.outcome, mission_id = excluded.mission_id, reason = excluded.reason
                    """,
                arguments: [
                    settled.schedule, settled.slot.timeIntervalSince1970, settled.firedAt.timeIntervalSince1970,
                    settled.outcome.rawValue, settled.mission?.rawValue, settled.reason,
                ]
            )
        }
    }

    /// A schedule's slots, newest first (every schedule's when `schedule` is nil), at most `limit`.
    package func scheduleSlots(_ schedule: String? = nil, limit: Int = 100) async throws -> [ScheduleSlot] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM schedule_slots WHERE ?1 IS NULL OR schedule = ?1
                    ORDER BY slot_at DESC, schedule LIMIT ?2
                    """,
                arguments: [schedule, limit]
            ).map { row in
                let column = StoredRow(row, table: "schedule_slots") { StoredRow.text($0, "schedule") }
                return ScheduleSlot(
                    schedule: try column("schedule"),
                    slot: try column.date("slot_at"),
                    firedAt: try column.date("fired_at"),
                    outcome: try column.known("outcome"),
                    mission: (try column("mission_id") as String?).flatMap(MissionID.init),
                    reason: try column("reason")
                )
            }
        }
    }
}
