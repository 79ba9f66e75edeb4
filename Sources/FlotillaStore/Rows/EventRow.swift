import FlotillaCore
import Foundation
import GRDB

/// An `events` row.
struct EventRow: LedgerRow {
    var id: Int64
    var missionId: String
    var at: Double
    var kind: String
    var groupId: String?
    var attemptNumber: Int?
    var message: String
    var dataJson: String

    var name: String { "events of \(missionId) #\(id)" }

    func record() throws -> MissionEvent {
        guard let mission = MissionID(missionId) else { throw LedgerError.invalid("\(name): not a mission id") }
        return MissionEvent(
            id: id,
            mission: mission,
            at: Date(ledgerSeconds: at),
            kind: try known(kind, "kind"),
            group: groupId,
            attempt: attemptNumber,
            message: message,
            data: try decoded(dataJson, "data_json", as: [String: JSONValue].self)
        )
    }
}
