import FlotillaCore
import Foundation

/// What one step of a pipeline is told: its template from the repository (placeholders `{goal}`, `{group}`,
/// `{criteria}`, `{task}`, `{inputs}`, `{feedback}`), or else the attempt's own prompt; then what the step is, what
/// it must leave, a line for each earlier try, and its inputs inlined between markers.
///
/// Inputs are inlined as the seed did, bounded: at most 10 files, 12,000 characters each and 40,000 in all, each
/// cut marked; a missing one says `[missing]`. The files themselves are in `FLOTILLA_STEP_IN` whole.
struct PipelineStepPrompt {
    let pipeline: Pipeline
    let step: PipelineStep
    let place: (number: Int, loop: Int, attempt: Int)
    let goal: String
    let attemptPrompt: String
    let group: ChecklistGroup?
    let records: [PipelineStepRecord]
    let inputs: [StepInput]
    let notes: String?
    let outputDirectory: String
    let template: String?

    static let fileLimit = 10
    static let charactersPerFile = 12_000
    static let charactersInAll = 40_000

    var text: String {
        guard let template else {
            return [attemptPrompt, stepSection, inputSection].filter { !$0.isEmpty }.joined(separator: "\n\n")
        }
        var text = template
        let values = [
            "{goal}": goal,
            "{group}": group?.title ?? "",
            "{criteria}": (group?.criteria ?? []).map { "- \($0)" }.joined(separator: "\n"),
            "{task}": attemptPrompt,
            "{feedback}": notes ?? "",
            "{inputs}": inputSection,
        ]
        for (placeholder, value) in values { text = text.replacingOccurrences(of: placeholder, with: value) }
        return (template.contains("{inputs}") ? [text, stepSection] : [text, stepSection, inputSection])
            .filter { !$0.isEmpty }.joined(separator: "\n\n")
    }

    var stepSection: String {
        var lines = [
            "## Step \(step.id) of pipeline \(pipeline.name) (\(place.number) of \(pipeline.steps.count))"
                + (place.loop > 0 ? ", return \(place.loop)" : "") + (place.attempt > 1 ? ", try \(place.attempt)" : "")
        ]
        switch step.mode {
        case .readOnly:
            lines.append(
                "This step is read-only: read the checkout, and write only into $FLOTILLA_STEP_OUT. Changes to the "
                    + "checkout are discarded."
            )
        case .write where !step.paths.isEmpty:
            lines.append(
                "Make your changes in the checkout, only in files matching \(step.paths.joined(separator: ", ")): "
                    + "changes elsewhere are taken back."
            )
        case .write:
            lines.append("Make your changes in the checkout.")
        }
        if !step.outputs.isEmpty {
            lines.append(
                "Write these files into $FLOTILLA_STEP_OUT (\(outputDirectory)): "
                    + step.outputs.joined(separator: ", ") + ". The step fails without them."
            )
        }
        if let verdict = step.verdict {
            lines.append(
                "Write your verdict to $FLOTILLA_STEP_OUT/\(verdict) as JSON: "
                    + #"{"verdict": "approve" or "changes", "notes": "what must change, and why"}."#
            )
        }
        if !records.isEmpty {
            lines.append("")
            lines.append("Earlier in this attempt:")
            for record in records {
                let summary = record.summary?.split(separator: "\n").first.map { " — \(String($0.prefix(200)))" } ?? ""
                lines.append(
                    "- \(PipelineRun.folder(number: record.number, step: record.step, loop: record.loop)) "
                        + "(\(record.backend)): \(record.status.rawValue)"
                        + (record.reason.map { " (\($0))" } ?? "") + summary
                )
            }
        }
        if let notes, !notes.isEmpty {
            lines.append("")
            lines.append("## Sent back to you")
            lines.append(notes)
        }
        return lines.joined(separator: "\n")
    }

    var inputSection: String {
        guard !inputs.isEmpty else { return "" }
        var parts = ["## Inputs (also in $FLOTILLA_STEP_IN)"]
        var left = Self.charactersInAll
        for (index, input) in inputs.enumerated() {
            guard index < Self.fileLimit else {
                parts.append("[\(inputs.count - Self.fileLimit) more inputs not shown: read them in $FLOTILLA_STEP_IN]")
                break
            }
            guard let path = input.path else {
                parts.append("[missing] \(input.name): no earlier step left it")
                continue
            }
            let data =
                FileManager.default.regularFileContents(atPath: path, limit: Self.charactersPerFile * 4) ?? Data()
            let whole = String(decoding: data, as: UTF8.self)
            let limit = min(Self.charactersPerFile, max(left, 0))
            let shown = String(whole.prefix(limit))
            left -= shown.count
            parts.append("=== BEGIN \(input.name) ===\n\(shown)")
            if shown.count < whole.count {
                parts.append(
                    "[truncated: \(whole.count - shown.count) more characters in $FLOTILLA_STEP_IN/\(input.name)]"
                )
            }
            parts.append("=== END \(input.name) ===")
        }
        return parts.joined(separator: "\n")
    }
}
