import FlotillaCore
import Foundation
import GRDB

extension MissionEvent: FetchableRecord {
    /// An `events` row.
    package init(row: Row) throws {
        let column = StoredRow(row, table: "events of") {
            "\(StoredRow.text($0, "mission_id")) #\(StoredRow.text($0, "id"))"
        }
        guard let mission = MissionID(try column("mission_id")) else {
            throw LedgerError.invalid("\(column.name): not a mission id")
        }
        self.init(
            id: try column("id"),
            mission: mission,
            at: try column.date("at"),
            kind: try column.known("kind"),
            group: try column("group_id"),
            attempt: try column("attempt_number"),
            message: try column("message"),
            data: try column.json("data_json")
        )
    }
}
