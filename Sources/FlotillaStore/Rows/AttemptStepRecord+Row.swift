import FlotillaCore
import Foundation
import GRDB

extension AttemptStepRecord: FetchableRecord {
    /// An `attempt_steps` row: one try of a pipeline's step.
    package init(row: Row) throws {
        let column = StoredRow(row, table: "attempt_steps of") {
            "\(StoredRow.text($0, "mission_id")) \(StoredRow.text($0, "group_id"))#"
                + "\(StoredRow.text($0, "attempt_number")) step \(StoredRow.text($0, "position"))"
        }
        self.init(
            key: AttemptKey(group: try column("group_id"), number: try column("attempt_number")),
            position: try column("position"),
            record: try column.json("record_json")
        )
    }
}
