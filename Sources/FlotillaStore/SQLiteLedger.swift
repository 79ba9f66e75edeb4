import FlotillaCore
import Foundation
import GRDB

/// The real ``MissionLedger``: one SQLite file in WAL mode, written through GRDB.
///
/// Each ``LedgerChange`` is applied in one write transaction together with its event row, so a crash leaves
/// either both or neither. Schema constraints (checks, foreign keys, a partial unique index on landings)
/// reject states that must never exist, whatever the code above does.
package final class SQLiteLedger: MissionLedger {
    let database: any DatabaseWriter

    /// Opens (creating if needed) the ledger at `path` and migrates it to the current schema.
    package init(path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        var configuration = Configuration()
        // Several flotilla processes may share one ledger (a running mission and `status`): wait for locks.
        configuration.busyMode = .timeout(15)
        configuration.prepareDatabase { db in
            // WAL survives a killed process with every committed transaction; NORMAL skips fsyncs per commit.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            try LedgerSchema.migrator.migrate(database)
        } catch {
            throw LedgerError.unreadable(path: path, detail: "\(error)")
        }
    }

    /// A ledger in memory, for tests of code above the store.
    package init(inMemory: Void) throws {
        database = try DatabaseQueue()
        try LedgerSchema.migrator.migrate(database)
    }

    @discardableResult
    package func record(_ change: LedgerChange, mission: MissionID, at: Date) async throws -> MissionEvent {
        var event = change.event(mission: mission, at: at)
        let unsaved = event
        do {
            event.id = try await database.write { db in
                let write = LedgerWrite(db: db, mission: mission.rawValue, now: at.timeIntervalSince1970)
                try write.apply(change)
                let id = try write.insert(unsaved)
                try write.enqueueNotifications(of: unsaved, id: id)
                return id
            }
        } catch let error as DatabaseError {
            throw LedgerError.rejected(change: event.kind.rawValue, detail: error.message ?? "\(error)")
        }
        return event
    }

    /// Folds the write-ahead log into the database file and empties it (for measuring and copying the file).
    package func checkpoint() async throws {
        try await database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }
}
