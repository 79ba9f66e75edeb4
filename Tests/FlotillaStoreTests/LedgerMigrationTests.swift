import FlotillaCore
import FlotillaTestSupport
import Foundation
import GRDB
import Testing

@testable import FlotillaStore

/// A ledger written by an earlier Flotilla opens in this one with every row.
@Suite("Ledger migrations keep what an older Flotilla wrote", .tags(.medium))
struct LedgerMigrationTests {
    static let v12 =
        "v12: why a landing waits for a person when the mission asks no approvals; the hack check's model calls"

    @Test func rebuildingTheMissionsTableKeepsItsGroupsAndEvents() async throws {
        let directory = try TemporaryDirectory(prefix: "flotilla-migration")
        defer { directory.remove() }
        let path = directory.file("ledger.sqlite")
        let mission = MissionID.random()
        let checklist = try ChecklistParser.parse("# G\n## A\n- [ ] a\n", file: "ACCEPTANCE.md")
        do {
            let old = try DatabaseQueue(path: path)
            try LedgerSchema.migrator.migrate(old, upTo: Self.v12)
            try await old.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO missions (id, goal, repository, base_commit, target_branch, protected_patterns,
                            agents, backend, attempt_timeout_s, stall_threshold, checklist_json, checklist_source,
                            state, stop_reason, created_at)
                        VALUES (?, 'g', '/r', ?, 'flotilla/x', '[]', 1, 'simulate', 60, 3, ?, 'ACCEPTANCE.md',
                            'stopped', 'max_attempts', 1800000000)
                        """,
                    arguments: [
                        mission.rawValue, String(repeating: "1", count: 40),
                        String(decoding: ChecklistJSON.encode(checklist), as: UTF8.self),
                    ]
                )
                try db.execute(
                    sql: "INSERT INTO groups (mission_id, id, position, title) VALUES (?, 'a', 0, 'A')",
                    arguments: [mission.rawValue]
                )
                try db.execute(
                    sql: """
                        INSERT INTO events (mission_id, at, kind, message, data_json)
                        VALUES (?, 1800000000, 'mission.created', 'created', '{}')
                        """,
                    arguments: [mission.rawValue]
                )
            }
        }
        let ledger = try SQLiteLedger(path: path)
        let record = try #require(try await ledger.mission(mission))
        #expect(record.stopReason == .maxAttempts)
        #expect(record.pauseAfterAttempts == nil)
        #expect(try await ledger.groups(of: mission).map(\.id) == ["a"])
        #expect(try await ledger.events(of: mission, after: 0, limit: 10).count == 1)
        // The new reasons are accepted.
        try await ledger.record(.missionFinished(.terminated, summary: "t"), mission: mission, at: Date())
        #expect(try await ledger.mission(mission)?.stopReason == .terminated)
    }
}
