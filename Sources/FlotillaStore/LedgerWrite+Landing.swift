import FlotillaCore
import Foundation
import GRDB

extension LedgerWrite {
    /// Opens a landing for each candidate of a merge round.
    func mergeStarted(_ keys: [AttemptKey], targetHead: String) throws {
        for key in keys {
            // A candidate tried again (deferred, or split from a failed round) starts its merge afresh.
            try db.execute(
                sql: """
                    INSERT INTO merges (mission_id, group_id, attempt_number, target_before, state, started_at)
                    VALUES (?, ?, ?, ?, 'pending', ?)
                    ON CONFLICT (mission_id, group_id, attempt_number) DO UPDATE SET
                        target_before = excluded.target_before, state = 'pending', merged_commit = NULL,
                        verification_id = NULL, started_at = excluded.started_at, finished_at = NULL
                    """,
                arguments: [mission, key.group, key.number, targetHead, now]
            )
            try db.execute(
                sql: "UPDATE attempts SET phase = 'merging' WHERE mission_id = ? AND group_id = ? AND number = ?",
                arguments: [mission, key.group, key.number]
            )
            try expectChange("attempt \(key)")
        }
    }

    /// Ties the round's merged commit to the regression verify that passed on it.
    func landingVerified(_ keys: [AttemptKey], commit: String, regression: Verification) throws {
        let verificationID = try insertVerification(regression)
        for key in keys {
            try db.execute(
                sql: """
                    UPDATE merges SET merged_commit = ?, verification_id = ?
                    WHERE mission_id = ? AND group_id = ? AND attempt_number = ? AND state = 'pending'
                    """,
                arguments: [commit, verificationID, mission, key.group, key.number]
            )
            try expectChange("merge of \(key)")
        }
    }

    /// Lands the candidates whose verified merge is exactly `landedCommit`.
    func attemptsLanded(_ keys: [AttemptKey], landedCommit: String) throws {
        for key in keys {
            // Only a landing whose verification of exactly this commit is recorded can land.
            try db.execute(
                sql: """
                    UPDATE merges SET state = 'landed', finished_at = ?
                    WHERE mission_id = ? AND group_id = ? AND attempt_number = ? AND merged_commit = ?
                        AND verification_id IS NOT NULL
                    """,
                arguments: [now, mission, key.group, key.number, landedCommit]
            )
            try expectChange("verified merge of \(key) as \(landedCommit)")
            try db.execute(
                sql: """
                    UPDATE attempts SET phase = 'finished', outcome = 'landed', landed_commit = ?, finished_at = ?
                    WHERE mission_id = ? AND group_id = ? AND number = ?
                    """,
                arguments: [landedCommit, now, mission, key.group, key.number]
            )
            try db.execute(
                sql: """
                    UPDATE groups SET status = 'done', landed_commit = ?, stalled_attempts = 0
                    WHERE mission_id = ? AND id = ?
                    """,
                arguments: [landedCommit, mission, key.group]
            )
            try db.execute(
                sql: "DELETE FROM claims WHERE mission_id = ? AND group_id = ?",
                arguments: [mission, key.group]
            )
        }
    }

    /// Puts candidates back in the queue, dropping their open landing.
    func mergeRequeued(_ keys: [AttemptKey], verification: Verification?) throws {
        if let verification { try insertVerification(verification) }
        for key in keys {
            try db.execute(
                sql:
                    "DELETE FROM merges WHERE mission_id = ? AND group_id = ? AND attempt_number = ? AND state = 'pending'",
                arguments: [mission, key.group, key.number]
            )
            try db.execute(
                sql: "UPDATE attempts SET phase = 'queued' WHERE mission_id = ? AND group_id = ? AND number = ?",
                arguments: [mission, key.group, key.number]
            )
            try expectChange("attempt \(key)")
        }
    }
}
