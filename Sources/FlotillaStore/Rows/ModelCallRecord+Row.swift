import FlotillaCore
import Foundation
import GRDB

extension ModelCallRecord: FetchableRecord {
    /// A `model_calls` row: one planner or critic call.
    package init(row: Row) throws {
        let column = StoredRow(row, table: "model_calls of") {
            "\(StoredRow.text($0, "mission_id")) #\(StoredRow.text($0, "id"))"
        }
        self.init(
            call: ModelCall(
                role: try column.known("role"),
                attempt: try column.attempt(),
                model: try column("model"),
                usage: try column.usage(),
                duration: .milliseconds(try column("duration_ms") as Int64),
                error: try column("error")
            ),
            at: try column.date("created_at")
        )
    }
}
