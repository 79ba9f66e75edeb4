import FlotillaCore
import Foundation
import GRDB

/// A `groups` row, with the money its attempts cost.
struct GroupRow: LedgerRow {
    var missionId: String
    var id: String
    var position: Int
    var title: String
    var checkCommand: String?
    var status: String
    var attempts: Int
    var stalledAttempts: Int
    var escalation: String
    var bestCriteriaPassed: Int?
    var landedCommit: String?
    var blockedReason: String?
    var costUsd: Double

    var name: String { "groups of \(missionId) \(id)" }

    static let query = """
        SELECT g.*, (SELECT coalesce(sum(cost_usd), 0) FROM attempts a
            WHERE a.mission_id = g.mission_id AND a.group_id = g.id) AS cost_usd
        FROM groups g WHERE g.mission_id = ? ORDER BY g.position
        """

    func record(dependsOn: [String], criteria: [String]) throws -> GroupRecord {
        GroupRecord(
            id: id,
            position: position,
            title: title,
            dependsOn: dependsOn,
            check: checkCommand,
            criteria: criteria,
            status: try known(status, "status"),
            attempts: attempts,
            stalledAttempts: stalledAttempts,
            escalation: try known(escalation, "escalation"),
            bestCriteriaPassed: bestCriteriaPassed,
            landedCommit: landedCommit,
            blockedReason: blockedReason,
            costUSD: costUsd
        )
    }
}
