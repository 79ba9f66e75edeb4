/// Writes `ACCEPTANCE.md` so that ``ChecklistParser`` reads back the same checklist.
package enum ChecklistRenderer {
    package static func render(_ checklist: Checklist) -> String {
        var lines: [String] = []
        lines.append("# \(checklist.title)")
        if !checklist.description.isEmpty {
            lines.append("")
            lines.append(checklist.description)
        }
        if !checklist.probes.isEmpty {
            lines.append("")
            lines += checklist.probes.map { "Probe: \($0.line)" }
        }
        for group in checklist.groups {
            lines.append("")
            // The id is written only when the title does not derive it, which keeps hand-written files clean.
            if GroupIdentifier.derive(fromTitle: group.title) == group.id {
                lines.append("## \(group.title)")
            } else {
                lines.append("## \(group.title) {#\(group.id)}")
            }
            if !group.dependsOn.isEmpty {
                lines.append("Depends on: \(group.dependsOn.joined(separator: ", "))")
            }
            if let check = group.check {
                lines.append("Check: `\(check)`")
            }
            if !group.allow.isEmpty {
                lines.append("Allow: \(group.allow.joined(separator: ", "))")
            }
            if !group.files.isEmpty {
                lines.append("Files: \(group.files.joined(separator: ", "))")
            }
            if let speculate = group.speculate {
                lines.append("Speculate: \(speculate)")
            }
            lines += group.probes.map { "Probe: \($0.line)" }
            for criterion in group.typedCriteria {
                lines.append(
                    "\(criterion.kind.rawValue.prefix(1).uppercased() + criterion.kind.rawValue.dropFirst()): \(criterion.line)"
                )
            }
            if let attempts = group.attempts {
                lines.append("Attempts: \(attempts)")
            }
            if let pipeline = group.pipeline {
                lines.append("Pipeline: \(pipeline)")
            }
            if !group.notes.isEmpty {
                lines.append(group.notes)
            }
            lines.append("")
            for criterion in group.criteria {
                lines.append("- [ ] \(criterion)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
