import FlotillaCore
import Foundation
import GRDB

extension LedgerWrite {
    /// A landing asks once; the finished mission asks again at each run that reaches the end (numbered 1, 2, …).
    func approvalRequested(_ key: AttemptKey?, hold: String?) throws {
        let number =
            try key?.number
            ?? (Int.fetchOne(
                db,
                sql:
                    "SELECT coalesce(max(attempt_number), 0) + 1 FROM approvals WHERE mission_id = ? AND group_id = ''",
                arguments: [mission]
            ) ?? 1)
        try db.execute(
            sql: """
                INSERT INTO approvals (mission_id, group_id, attempt_number, requested_at, hold) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """,
            arguments: [mission, key?.group ?? "", number, now, hold]
        )
    }

    /// Records the decision, unless one was recorded already (by a human in another process, or the timeout).
    func approvalDecided(_ key: AttemptKey?, _ decision: ApprovalDecision) throws {
        try db.execute(
            sql: """
                UPDATE approvals SET decision = ?, reason = ?, decided_by = ?, decided_at = ?
                WHERE mission_id = ? AND group_id = ? AND (? IS NULL OR attempt_number = ?) AND decision IS NULL
                """,
            arguments: [
                decision.approved ? "approved" : "rejected", decision.reason, decision.by, now, mission,
                key?.group ?? "", key?.number, key?.number,
            ]
        )
        try expectChange("an undecided approval of \(key.map(\.description) ?? "the mission")")
    }
}

extension SQLiteLedger {
    /// Every approval `mission` asked for, oldest first.
    package func approvals(of mission: MissionID) async throws -> [ApprovalRecord] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT group_id, attempt_number, requested_at, decision, reason, decided_by, decided_at, hold
                    FROM approvals WHERE mission_id = ? ORDER BY requested_at, group_id, attempt_number
                    """,
                arguments: [mission.rawValue]
            ).map { row in
                let group: String = row["group_id"]
                let number: Int = row["attempt_number"]
                let decision: String? = row["decision"]
                let decidedAt: Double? = row["decided_at"]
                return ApprovalRecord(
                    attempt: group.isEmpty ? nil : AttemptKey(group: group, number: number),
                    requestedAt: Date(timeIntervalSince1970: row["requested_at"]),
                    decision: decision.map {
                        ApprovalDecision(approved: $0 == "approved", reason: row["reason"], by: row["decided_by"] ?? "")
                    },
                    decidedAt: decidedAt.map(Date.init(timeIntervalSince1970:)),
                    hold: row["hold"]
                )
            }
        }
    }
}
