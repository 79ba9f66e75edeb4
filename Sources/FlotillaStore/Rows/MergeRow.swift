import FlotillaCore
import Foundation
import GRDB

/// A `merges` row: one attempt's landing.
struct MergeRow: LedgerRow {
    var missionId: String
    var groupId: String
    var attemptNumber: Int
    var targetBefore: String
    var mergedCommit: String?
    var state: String
    var verificationId: Int64?

    var name: String { "merges of \(missionId) \(groupId)#\(attemptNumber)" }

    func record(verifications: [Int64: Verification]) throws -> MergeRecord {
        MergeRecord(
            attempt: AttemptKey(group: groupId, number: attemptNumber),
            state: try known(state, "state"),
            targetBefore: targetBefore,
            mergedCommit: mergedCommit,
            verification: verificationId.flatMap { verifications[$0] }
        )
    }
}
