import FlotillaCore
import Foundation
import GRDB

extension GroupRecord: FetchableRecord {
    /// A mission's groups in checklist order, with the money their attempts cost; dependencies and criteria are
    /// read from their own tables.
    static let query = """
        SELECT g.*, (SELECT coalesce(sum(cost_usd), 0) FROM attempts a
            WHERE a.mission_id = g.mission_id AND a.group_id = g.id) AS cost_usd
        FROM groups g WHERE g.mission_id = ? ORDER BY g.position
        """

    /// A row of ``query``, without its dependencies and criteria.
    package init(row: Row) throws {
        let column = StoredRow(row, table: "groups of") {
            "\(StoredRow.text($0, "mission_id")) \(StoredRow.text($0, "id"))"
        }
        self.init(
            id: try column("id"),
            position: try column("position"),
            title: try column("title"),
            dependsOn: [],
            check: try column("check_command"),
            criteria: [],
            status: try column.known("status"),
            attempts: try column("attempts"),
            stalledAttempts: try column("stalled_attempts"),
            escalation: try column.known("escalation"),
            bestCriteriaPassed: try column("best_criteria_passed"),
            landedCommit: try column("landed_commit"),
            blockedReason: try column("blocked_reason"),
            costUSD: try column("cost_usd")
        )
        addedBy = try column("added_by")
    }
}
