import FlotillaAPI
import FlotillaCore
import Foundation

/// The tries of the pipeline steps each attempt ran, in the order they ran.
extension MissionReport {
    /// One row per try: attempt, step folder, status, change, backend, time, cost, reason.
    var stepRows: [[String]] {
        attempts.flatMap { attempt in
            (attempt.steps ?? []).map { step -> [String] in
                let folder: String = step.attempt > 1 ? "\(step.folder) try \(step.attempt)" : step.folder
                let change: String = step.changeStatus == "changed" ? "changed" : "no changes"
                let backend: String = step.model.map { "\(step.backend) \($0)" } ?? step.backend
                let time: String = Duration.milliseconds(step.durationMS).shortDescription
                let reason: String = step.reason ?? step.summary ?? ""
                return [
                    "\(attempt.group)#\(attempt.number)", folder, step.status, change, backend, time,
                    Self.dollars(step.costUSD), reason,
                ]
            }
        }
    }

    static let stepHeaders = ["Attempt", "Step", "Status", "Change", "Backend", "Time", "Cost", "Reason"]

    var stepsMarkdown: [String] {
        let rows = stepRows
        guard !rows.isEmpty else { return [] }
        return [
            "## Pipeline steps", "", "| " + Self.stepHeaders.joined(separator: " | ") + " |",
            "|---|---|---|---|---|---:|---:|---|",
        ] + rows.map { row in "| " + row.map { Self.cell($0) }.joined(separator: " | ") + " |" } + [""]
    }

    var stepsHTML: [String] {
        let rows = stepRows
        guard !rows.isEmpty else { return [] }
        let head = Self.stepHeaders.map { "<th>\($0)</th>" }.joined()
        return ["<h2>Pipeline steps</h2>", "<table><thead><tr>\(head)</tr></thead><tbody>"]
            + rows.map { row in
                let cells = row.enumerated().map { index, text in
                    index == 2
                        ? "<td><span class=\"badge \(Self.escape(text))\">\(Self.escape(text))</span></td>"
                        : "<td>\(Self.escape(text))</td>"
                }
                return "<tr>" + cells.joined() + "</tr>"
            } + ["</tbody></table>"]
    }
}
