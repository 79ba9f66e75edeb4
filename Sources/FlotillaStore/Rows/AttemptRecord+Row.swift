import FlotillaCore
import Foundation
import GRDB

extension AttemptRecord: FetchableRecord {
    /// An `attempts` row.
    package init(row: Row) throws {
        let column = StoredRow(row, table: "attempts of") {
            "\(StoredRow.text($0, "mission_id")) \(StoredRow.text($0, "group_id"))#\(StoredRow.text($0, "number"))"
        }
        let diff = try (column("diff_files") as Int?).map {
            DiffStat(
                files: $0,
                insertions: try column("diff_insertions") ?? 0,
                deletions: try column("diff_deletions") ?? 0
            )
        }
        self.init(
            key: AttemptKey(group: try column("group_id"), number: try column("number")),
            sequence: try column("sequence"),
            slot: try column("slot"),
            backend: try column("backend"),
            phase: try column.known("phase"),
            outcome: try column.knownIfPresent("outcome"),
            reason: try column("reason"),
            feedback: try column("feedback"),
            startCommit: try column("start_commit"),
            commit: try column("commit_sha"),
            landedCommit: try column("landed_commit"),
            branch: try column("branch"),
            worktree: try column("worktree"),
            promptPath: try column("prompt_path"),
            transcriptPath: try column("transcript_path"),
            exitCode: try column("exit_code"),
            usage: try column.usage(),
            diff: diff,
            criteria: (try column("criteria_passed") as Int?).map { CriteriaScore(passed: $0) },
            startedAt: try column.date("started_at"),
            agentSeconds: try column("agent_seconds"),
            gateSeconds: try column("gate_seconds"),
            finishedAt: try column.dateIfPresent("finished_at"),
            sandbox: try column("sandbox")
        )
    }
}
