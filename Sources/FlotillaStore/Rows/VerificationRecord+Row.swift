import FlotillaCore
import Foundation
import GRDB

extension VerificationRecord: FetchableRecord {
    /// A `verifications` row: a gate, regression or final verify.
    package init(row: Row) throws {
        let column = StoredRow(row, table: "verifications of") {
            "\(StoredRow.text($0, "mission_id")) #\(StoredRow.text($0, "id"))"
        }
        let groups: String = try column("groups_checked")
        self.init(
            id: try column("id"),
            verification: Verification(
                kind: try column.known("kind"),
                attempt: try column.attempt(),
                commit: try column("commit_sha"),
                command: try column("command"),
                groups: groups.isEmpty ? [] : groups.split(separator: ",").map(String.init),
                landedGroupsChecked: try column("landed_groups_checked"),
                exitCode: try column("exit_code"),
                passed: try column("passed"),
                timedOut: try column("timed_out"),
                duration: .milliseconds(try column("duration_ms") as Int64),
                outputTail: try column("output_tail"),
                report: try column.jsonIfPresent("report_json")
            ),
            at: try column.date("created_at")
        )
    }
}
