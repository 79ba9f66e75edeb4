extension Pipeline {
    /// The pipelines a mission runs, sorted by name.
    ///
    /// The one `--pipeline` names and those its groups' `Pipeline:` lines name, each defined in `defined` (the
    /// configuration's). A name nothing defines is an error that says who named it and what is defined.
    package static func chosen(
        by checklist: Checklist,
        mission name: String?,
        defined: [String: Pipeline]
    ) throws(FlotillaError) -> [Pipeline] {
        var named: [(name: String, by: String, field: String)] = []
        if let name { named.append((name, "--pipeline", "pipeline")) }
        for group in checklist.groups {
            if let name = group.pipeline {
                named.append((name, "the `Pipeline:` line of group `\(group.id)`", "acceptance"))
            }
        }
        var used: [String: Pipeline] = [:]
        for choice in named {
            guard let pipeline = defined[choice.name] else {
                let known = defined.keys.sorted()
                throw FlotillaError.invalid(
                    "\(choice.by) names pipeline \(choice.name), which no [pipeline.\(choice.name)] in flotilla.toml "
                        + "or config.toml defines"
                        + (known.isEmpty ? "" : " (defined: \(known.joined(separator: ", ")))"),
                    fields: [FieldProblem(field: choice.field, message: "unknown pipeline \(choice.name)")]
                )
            }
            used[choice.name] = pipeline
        }
        return used.values.sorted { $0.name < $1.name }
    }

    /// The repository files its steps' prompts are read from: protected like the checklist, so an agent cannot
    /// rewrite what a later step is told.
    package var promptFiles: [String] { steps.compactMap(\.prompt) }
}
