import FlotillaCore
import Foundation

/// A step's verdict file: `{"verdict": "approve" | "changes", "notes": "…"}`.
enum StepVerdict: Equatable {
    case approve
    /// The step asks for changes; its notes go to the step its failure sends the attempt back to.
    case changes(notes: String)
    /// Missing, too large, not JSON, or neither verdict: the step failed to give one.
    case unreadable(String)

    static func read(_ path: String) -> StepVerdict {
        guard let data = FileManager.default.regularFileContents(atPath: path, limit: 256 << 10) else {
            return .unreadable("no such file (or larger than 256 KiB)")
        }
        guard let object = try? JSONDecoder().decode(JSONValue.self, from: data), case .object(let fields) = object
        else { return .unreadable("not a JSON object") }
        let notes = fields["notes"]?.stringValue ?? ""
        switch fields["verdict"]?.stringValue {
        case "approve": return .approve
        case "changes": return .changes(notes: notes)
        default: return .unreadable("verdict must be \"approve\" or \"changes\"")
        }
    }
}
