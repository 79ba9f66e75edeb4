import FlotillaCore
import Foundation
import GRDB

extension LedgerWrite {
    /// Puts a notification in the outbox for every target of the mission that wants `event`'s category, in the
    /// event's own transaction: an event is never recorded without its notifications, nor the reverse.
    func enqueueNotifications(of event: MissionEvent, id: Int64) throws {
        guard let category = NotificationCategory(event) else { return }
        let targets = try Row.fetchAll(
            db,
            sql: "SELECT name, target_json FROM notify_targets WHERE mission_id = ? ORDER BY name",
            arguments: [mission]
        )
        guard !targets.isEmpty else { return }
        let about = try Row.fetchOne(
            db,
            sql: "SELECT goal, repository, options_json FROM missions WHERE id = ?",
            arguments: [mission]
        )
        var stored = event
        stored.id = id
        var payload = NotificationPayload(
            event: stored,
            category: category,
            goal: about?["goal"] ?? "",
            repository: about?["repository"] ?? ""
        )
        // The caller's labels and names go with it, so a receiver can tell whose mission it is.
        if let options: String = about?["options_json"], let fields = try? MissionFields.stored(options) {
            payload.tags = fields.tags
            payload.metadata = fields.metadata
        }
        let payloadJSON = try json(payload)
        for row in targets {
            let targetJSON: String = row["target_json"]
            let target = try JSONDecoder().decode(NotificationTarget.self, from: Data(targetJSON.utf8))
            guard target.events.contains(category) else { continue }
            try db.execute(
                sql: """
                    INSERT INTO notifications (mission_id, event_id, target, target_json, payload_json, state,
                        next_at, created_at)
                    VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)
                    """,
                arguments: [mission, id, target.name, targetJSON, payloadJSON, now, now]
            )
        }
    }

    /// Records a try: delivered, failed with its next try due, or failed for good; the claim is released.
    func notificationTried(_ attempt: NotificationTry) throws {
        let state = attempt.error == nil ? "delivered" : attempt.retryAt == nil ? "failed" : "pending"
        try db.execute(
            sql: """
                UPDATE notifications SET state = ?, failures = failures + ?, next_at = coalesce(?, next_at),
                    claimed_until = NULL, last_error = coalesce(?, last_error),
                    finished_at = CASE WHEN ? = 'pending' THEN NULL ELSE ? END
                WHERE id = ? AND mission_id = ? AND state = 'pending'
                """,
            arguments: [
                state, attempt.error == nil ? 0 : 1, attempt.retryAt?.timeIntervalSince1970, attempt.error, state,
                now, attempt.notification, mission,
            ]
        )
        try expectChange("pending notification \(attempt.notification)")
    }
}
