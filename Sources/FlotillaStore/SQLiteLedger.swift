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
        let event = change.event(mission: mission, at: at)
        do {
            return try await database.write { db in try Self.store(change, event, in: db, mission: mission, at: at) }
        } catch let error as DatabaseError {
            throw LedgerError.rejected(change: event.kind.rawValue, detail: error.message ?? "\(error)")
        }
    }

    /// Records a change whatever becomes of the calling task; `completion` hears the stored event.
    func record(
        _ change: LedgerChange,
        mission: MissionID,
        at: Date,
        completion: @escaping @Sendable (Result<MissionEvent, any Error>) -> Void
    ) {
        let event = change.event(mission: mission, at: at)
        database.asyncWrite { db in
            try Self.store(change, event, in: db, mission: mission, at: at)
        } completion: { _, result in
            completion(
                result.mapError { error in
                    guard let error = error as? DatabaseError else { return error }
                    return LedgerError.rejected(change: event.kind.rawValue, detail: error.message ?? "\(error)")
                }
            )
        }
    }

    /// Applies a change and stores its event (and the notifications it causes) in one transaction.
    private static func store(
        _ change: LedgerChange,
        _ event: MissionEvent,
        in db: Database,
        mission: MissionID,
        at: Date
    ) throws -> MissionEvent {
        let write = LedgerWrite(db: db, mission: mission.rawValue, now: at.timeIntervalSince1970)
        try write.apply(change)
        var stored = event
        stored.id = try write.insert(event)
        try write.enqueueNotifications(of: event, id: stored.id)
        return stored
    }

    /// Folds the write-ahead log into the database file and empties it (for measuring and copying the file).
    package func checkpoint() async throws {
        try await database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }
}
