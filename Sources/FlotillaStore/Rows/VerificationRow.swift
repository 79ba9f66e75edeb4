import FlotillaCore
import Foundation
import GRDB

/// A `verifications` row: a gate, regression or final verify.
struct VerificationRow: LedgerRow {
    var id: Int64
    var missionId: String
    var groupId: String?
    var attemptNumber: Int?
    var kind: String
    var commitSha: String
    var command: String
    var groupsChecked: String
    var landedGroupsChecked: Int
    var exitCode: Int?
    var passed: Bool
    var timedOut: Bool
    var durationMs: Int64
    var outputTail: String
    var reportJson: String?
    var createdAt: Double

    var name: String { "verifications of \(missionId) #\(id)" }

    func record() throws -> VerificationRecord {
        VerificationRecord(
            id: id,
            verification: Verification(
                kind: try known(kind, "kind"),
                attempt: groupId.flatMap { group in attemptNumber.map { AttemptKey(group: group, number: $0) } },
                commit: commitSha,
                command: command,
                groups: groupsChecked.isEmpty ? [] : groupsChecked.split(separator: ",").map(String.init),
                landedGroupsChecked: landedGroupsChecked,
                exitCode: exitCode,
                passed: passed,
                timedOut: timedOut,
                duration: .milliseconds(durationMs),
                outputTail: outputTail,
                report: try reportJson.map { try decoded($0, "report_json", as: JSONValue.self) }
            ),
            at: Date(ledgerSeconds: createdAt)
        )
    }
}
