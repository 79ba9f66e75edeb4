import FlotillaCore
import Foundation
import GRDB

extension SQLiteLedger {
    /// Aggregates over every mission, computed by SQLite so a scrape reads no rows it does not need.
    package func statistics() async throws -> LedgerStatistics {
        try await database.read { db in
            var statistics = LedgerStatistics()
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM missions GROUP BY state") {
                statistics.missionsByState[row["state"]] = row["n"]
            }
            for row in try Row.fetchAll(
                db,
                sql: "SELECT coalesce(outcome, 'running') AS outcome, count(*) AS n FROM attempts GROUP BY 1"
            ) {
                statistics.attemptsByOutcome[row["outcome"]] = row["n"]
            }
            statistics.costUSD = try Double.fetchOne(db, sql: "SELECT coalesce(sum(cost_usd), 0) FROM attempts") ?? 0
            let live = try Row.fetchOne(
                db,
                sql: """
                    SELECT coalesce(sum(a.phase IN ('queued', 'merging')), 0) AS queued,
                           coalesce(sum(a.phase = 'agent'), 0) AS agents
                    FROM attempts a JOIN missions m ON m.id = a.mission_id WHERE m.state = 'running'
                    """
            )
            statistics.queueDepth = live?["queued"] ?? 0
            statistics.activeAgents = live?["agents"] ?? 0
            statistics.gateSeconds = try Self.histogram(
                db,
                sql: "SELECT duration_ms / 1000.0 AS s FROM verifications WHERE kind = 'gate'"
            )
            statistics.mergeSeconds = try Self.histogram(
                db,
                sql: "SELECT finished_at - started_at AS s FROM merges WHERE finished_at IS NOT NULL"
            )
            statistics.criterionFigures = try Self.criterionFigures(
                db,
                since: Date().timeIntervalSince1970 - LedgerStatistics.criteriaWindow
            )
            return statistics
        }
    }

    /// The last figure of each typed criterion the verifications of missions running, or ended since `since`, read.
    private static func criterionFigures(_ db: Database, since: Double) throws -> [CriterionFigure] {
        var last: [String: CriterionFigure] = [:]
        var order: [String] = []
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT v.mission_id AS mission, json_extract(c.value, '$.group') AS grp,
                    json_extract(c.value, '$.id') AS criterion, json_extract(c.value, '$.value') AS value,
                    json_extract(c.value, '$.target') AS target
                FROM verifications v JOIN missions m ON m.id = v.mission_id,
                    json_each(v.report_json, '$.typed_criteria') c
                WHERE v.report_json IS NOT NULL AND json_valid(v.report_json)
                    AND (m.state = 'running' OR m.finished_at >= ?)
                    AND json_type(c.value, '$.value') IN ('integer', 'real')
                ORDER BY v.id
                """,
            arguments: [since]
        )
        while let row = try rows.next() {
            guard let mission: String = row["mission"], let group: String = row["grp"],
                let criterion: String = row["criterion"], let value: Double = row["value"]
            else { continue }
            let key = "\(mission)\u{0}\(group)\u{0}\(criterion)"
            if last[key] == nil { order.append(key) }
            last[key] = CriterionFigure(
                mission: mission,
                group: group,
                criterion: criterion,
                value: value,
                target: row["target"]
            )
        }
        return order.compactMap { last[$0] }
    }

    /// Buckets the seconds `sql` selects (as column `s`), in SQL: one row comes back, whatever the number of observations.
    private static func histogram(_ db: Database, sql: String) throws -> DurationHistogram {
        let buckets = DurationHistogram.bounds.enumerated()
            .map { "coalesce(sum(s <= \($0.element)), 0) AS b\($0.offset)" }
            .joined(separator: ", ")
        guard
            let row = try Row.fetchOne(
                db,
                sql: "SELECT count(*) AS n, coalesce(sum(s), 0) AS total, \(buckets) FROM (\(sql))"
            )
        else { return DurationHistogram() }
        var histogram = DurationHistogram()
        histogram.count = row["n"]
        histogram.sum = row["total"]
        histogram.cumulativeCounts = DurationHistogram.bounds.indices.map { row["b\($0)"] }
        return histogram
    }

    // MARK: - Webhook deliveries

    /// Records that `key`, sent with the token named `token`, started `mission`.
    ///
    /// Returns the mission an earlier delivery with the same key started instead, recording nothing.
    package func recordDelivery(token: String, key: String, mission: MissionID, at: Date) async throws -> MissionID? {
        try await database.write { db in
            if let existing = try String.fetchOne(
                db,
                sql: "SELECT mission_id FROM deliveries WHERE token_name = ? AND key = ?",
                arguments: [token, key]
            ) {
                return MissionID(existing)
            }
            try db.execute(
                sql: "INSERT INTO deliveries (token_name, key, mission_id, created_at) VALUES (?, ?, ?, ?)",
                arguments: [token, key, mission.rawValue, at.timeIntervalSince1970]
            )
            return nil
        }
    }

    /// The mission a delivery with `key` (sent with the token named `token`) started, if any.
    package func delivery(token: String, key: String) async throws -> MissionID? {
        try await database.read { db in
            try String.fetchOne(
                db,
                sql: "SELECT mission_id FROM deliveries WHERE token_name = ? AND key = ?",
                arguments: [token, key]
            ).flatMap(MissionID.init)
        }
    }
}
