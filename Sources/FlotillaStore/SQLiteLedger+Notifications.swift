import FlotillaCore
import Foundation
import GRDB

extension SQLiteLedger: NotificationOutbox {
    package func claimDueNotifications(
        of mission: MissionID?,
        now: Date
    ) async throws -> [(mission: MissionID, notification: PendingNotification)] {
        try await claimDueNotifications(of: mission, now: now, margin: .seconds(5), limit: 32)
    }

    package func recordTry(_ attempt: NotificationTry, mission: MissionID, at: Date) async throws -> MissionEvent {
        // Written through a callback rather than the async write, which does nothing for a cancelled task.
        try await withCheckedThrowingContinuation { continuation in
            record(.notificationTried(attempt), mission: mission, at: at) { continuation.resume(with: $0) }
        }
    }

    /// Sets where `mission`'s notifications go from now on (each run sets them from the configuration it reads).
    package func setNotificationTargets(_ targets: [NotificationTarget], for mission: MissionID) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try await database.write { db in
            try db.execute(sql: "DELETE FROM notify_targets WHERE mission_id = ?", arguments: [mission.rawValue])
            for target in targets {
                try db.execute(
                    sql: "INSERT INTO notify_targets (mission_id, name, target_json) VALUES (?, ?, ?)",
                    arguments: [
                        mission.rawValue, target.name, String(decoding: try encoder.encode(target), as: UTF8.self),
                    ]
                )
            }
        }
    }

    /// Claims up to `limit` notifications due at `now` (of `mission`, or of every mission), each for its target's
    /// timeout plus `margin`: no other process takes one until its claim ends or its try is recorded.
    package func claimDueNotifications(
        of mission: MissionID? = nil,
        now: Date,
        margin: Duration,
        limit: Int
    ) async throws -> [(mission: MissionID, notification: PendingNotification)] {
        let at = now.timeIntervalSince1970
        return try await database.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, mission_id, target_json, payload_json, failures FROM notifications
                    WHERE state = 'pending' AND next_at <= ? AND coalesce(claimed_until, 0) <= ?
                        AND (? IS NULL OR mission_id = ?)
                    ORDER BY next_at, id LIMIT ?
                    """,
                arguments: [at, at, mission?.rawValue, mission?.rawValue, limit]
            )
            return try rows.map { row in
                let id: Int64 = row["id"]
                let owner: String = row["mission_id"]
                let notification: (MissionID, PendingNotification)
                do {
                    let decoder = JSONDecoder()
                    let target = try decoder.decode(
                        NotificationTarget.self,
                        from: Data((row["target_json"] as String).utf8)
                    )
                    let payload = try decoder.decode(
                        NotificationPayload.self,
                        from: Data((row["payload_json"] as String).utf8)
                    )
                    guard let mission = MissionID(owner) else { throw LedgerError.invalid("mission id \(owner)") }
                    notification = (
                        mission,
                        PendingNotification(id: id, target: target, payload: payload, failures: row["failures"])
                    )
                } catch {
                    throw LedgerError.invalid("notification \(id) of \(owner) is unreadable: \(error)")
                }
                try db.execute(
                    sql: "UPDATE notifications SET claimed_until = ? WHERE id = ?",
                    arguments: [at + notification.1.target.timeout.seconds + margin.seconds, id]
                )
                return notification
            }
        }
    }

    /// How many of `mission`'s notifications wait, and when the soonest is due.
    package func pendingNotifications(of mission: MissionID) async throws -> (count: Int, nextAt: Date?) {
        try await database.read { db in
            let row = try Row.fetchOne(
                db,
                sql:
                    "SELECT count(*) AS n, min(next_at) AS next FROM notifications WHERE mission_id = ? AND state = 'pending'",
                arguments: [mission.rawValue]
            )
            let next: Double? = row?["next"]
            return (row?["n"] ?? 0, next.map(Date.init(timeIntervalSince1970:)))
        }
    }

    /// Every notification of `mission`, oldest first.
    package func notifications(of mission: MissionID) async throws -> [NotificationRecord] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, target, target_json, payload_json, state, failures, last_error, created_at, finished_at,
                        next_at
                    FROM notifications WHERE mission_id = ? ORDER BY id
                    """,
                arguments: [mission.rawValue]
            ).map { row in
                let id: Int64 = row["id"]
                let what = "notification \(id) of \(mission)"
                let decoder = JSONDecoder()
                guard
                    let target = try? decoder.decode(
                        NotificationTarget.self,
                        from: Data((row["target_json"] as String).utf8)
                    ),
                    let payload = try? decoder.decode(
                        NotificationPayload.self,
                        from: Data((row["payload_json"] as String).utf8)
                    ),
                    let state = NotificationRecord.State(rawValue: row["state"])
                else { throw LedgerError.invalid("\(what) is unreadable") }
                let failures: Int = row["failures"]
                let finished: Double? = row["finished_at"]
                return NotificationRecord(
                    id: id,
                    target: row["target"],
                    kind: target.kind,
                    category: payload.category,
                    event: payload.event,
                    state: state,
                    tries: failures + (state == .delivered ? 1 : 0),
                    lastError: row["last_error"],
                    createdAt: Date(timeIntervalSince1970: row["created_at"]),
                    finishedAt: finished.map(Date.init(timeIntervalSince1970:)),
                    nextAt: state == .pending ? Date(timeIntervalSince1970: row["next_at"]) : nil
                )
            }
        }
    }
}
