import FlotillaCore
import Foundation
import GRDB

/// One change being written: the transaction, the mission and the time, with a method per kind of change.
struct LedgerWrite {
    let db: Database
    let mission: String
    let now: Double

    /// Applies `change` to the tables it touches (its event row is written beside it by the caller).
    func apply(_ change: LedgerChange) throws {
        switch change {
        case .missionCreated(let spec): try missionCreated(spec)
        case .missionStarted(_, _, let runner, _, _): try missionStarted(runner: runner)
        case .attemptStarted(let start): try attemptStarted(start)
        case .agentFinished(let key, let report): try agentFinished(key, report)
        case .attemptCommitted(let key, let commit, let diff): try attemptCommitted(key, commit: commit, diff: diff)
        case .gateFinished(let verification, let reviewFollows):
            try gateFinished(verification, queue: verification.passed && !reviewFollows)
        case .mergeStarted(let keys, let targetHead): try mergeStarted(keys, targetHead: targetHead)
        case .landingVerified(let keys, let commit, let regression):
            try landingVerified(keys, commit: commit, regression: regression)
        case .attemptsLanded(let keys, let landedCommit, _): try attemptsLanded(keys, landedCommit: landedCommit)
        case .mergeRequeued(let keys, _, let verification): try mergeRequeued(keys, verification: verification)
        case .attemptFailed(let conclusion): try attemptFailed(conclusion)
        case .breakerTripped(let trip): try breakerTripped(trip)
        case .groupsApproved(let groups): try groupsApproved(groups)
        case .finalVerifyFinished(let verification): try insertVerification(verification)
        case .missionFinished(let reason, _): try missionFinished(reason)
        case .modelCalled(let call): try modelCalled(call)
        case .notificationTried(let attempt): try notificationTried(attempt)
        case .approvalRequested(let key, let question): try approvalRequested(key, hold: key == nil ? nil : question)
        case .approvalDecided(let key, let decision): try approvalDecided(key, decision)
        case .groupsAdded(let groups, let checklist, let by): try groupsAdded(groups, checklist: checklist, by: by)
        case .reviewed(let key, let verdict): try reviewed(key, blocks: verdict.blocks)
        case .stepFinished(let key, let record): try stepFinished(key, record)
        case .missionQueued:
            try db.execute(sql: "UPDATE missions SET queued_at = ? WHERE id = ?", arguments: [now, mission])
        case .missionDequeued:
            try db.execute(sql: "UPDATE missions SET queued_at = NULL WHERE id = ?", arguments: [mission])
        case .stepAllowed(_, let pauseAfter):
            try db.execute(
                sql: "UPDATE missions SET pause_after_attempts = ? WHERE id = ?",
                arguments: [pauseAfter, mission]
            )
        case .recovered, .refsRestored, .testEditsReverted, .newTestsDeferred, .toolSettingsRestored, .refsMoved,
            .testsBaseline, .probesBaseline, .criteriaChecked,
            .crashNoticed, .pushed,
            .landedOnto,
            .objectiveChecked, .speculationRanked, .stepStarted, .stepChangesTakenBack:
            break
        }
    }

    /// Inserts a gate, regression or final verification, returning its id.
    @discardableResult
    func insertVerification(_ verification: Verification) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO verifications (mission_id, group_id, attempt_number, kind, commit_sha, command,
                    groups_checked, landed_groups_checked, exit_code, passed, timed_out, duration_ms, output_tail,
                    report_json, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                mission, verification.attempt?.group, verification.attempt?.number, verification.kind.rawValue,
                verification.commit, verification.command, verification.groups.joined(separator: ","),
                verification.landedGroupsChecked, verification.exitCode, verification.passed, verification.timedOut,
                verification.duration.milliseconds, verification.outputTail,
                try verification.report.map { try json($0) }, now,
            ]
        )
        return db.lastInsertedRowID
    }

    /// Inserts the change's event, returning its id.
    func insert(_ event: MissionEvent) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO events (mission_id, at, kind, group_id, attempt_number, message, data_json)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                event.mission.rawValue, event.at.timeIntervalSince1970, event.kind.rawValue, event.group,
                event.attempt, event.message, try json(event.data),
            ]
        )
        return db.lastInsertedRowID
    }

    /// Fails when the statement before changed nothing: what it updates must exist.
    func expectChange(_ what: String) throws {
        if db.changesCount == 0 { throw LedgerError.invalid("\(what) is not in the ledger") }
    }

    /// Text for a JSON column: sorted keys, so equal values are equal text.
    func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
