import FlotillaCore
import Foundation
import GRDB

extension MergeRecord: FetchableRecord {
    /// A `merges` row (one attempt's landing), without its verification, which is read from its own table.
    package init(row: Row) throws {
        let column = StoredRow(row, table: "merges of") {
            "\(StoredRow.text($0, "mission_id")) \(StoredRow.text($0, "group_id"))#\(StoredRow.text($0, "attempt_number"))"
        }
        self.init(
            attempt: AttemptKey(group: try column("group_id"), number: try column("attempt_number")),
            state: try column.known("state"),
            targetBefore: try column("target_before"),
            mergedCommit: try column("merged_commit"),
            verification: nil
        )
    }
}
