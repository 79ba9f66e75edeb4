extension Pipeline {
    /// A `[pipeline.NAME]` table and the `[pipeline.NAME.STEP]` tables of one file, as the file holds them.
    package struct Tables: Sendable {
        package var header: (entries: [String: TOMLDocument.Entry], line: Int?)?
        package var steps: [String: (entries: [String: TOMLDocument.Entry], line: Int?)] = [:]

        package init() {}
    }

    /// The keys a `[pipeline.NAME.STEP]` table accepts.
    package static let stepKeys: [String] = [
        "backend", "model", "command", "mode", "prompt", "inputs", "outputs", "timeout", "retries", "verdict",
        "on_fail",
        "max_loops", "paths",
    ]

    /// Collects the `pipeline.…` tables of a document by pipeline name; a table that is not `[pipeline.NAME]` or
    /// `[pipeline.NAME.STEP]` is an error naming its line.
    package static func tables(
        of document: TOMLDocument,
        file: String
    ) throws(ConfigurationError) -> [String: Tables] {
        var found: [String: Tables] = [:]
        for (path, entries) in document.tables where path == "pipeline" || path.hasPrefix("pipeline.") {
            let line = document.tableLines[path]
            let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 || parts.count == 3 else {
                throw ConfigurationError(
                    file: file,
                    line: line,
                    "a pipeline is [pipeline.NAME] with its steps in [pipeline.NAME.STEP] tables, not [\(path)]"
                )
            }
            for part in parts.dropFirst() where !isName(part) {
                throw ConfigurationError(
                    file: file,
                    line: line,
                    "[\(path)]: \"\(part)\" is not a name (lowercase letters, digits, - and _, a letter first)"
                )
            }
            if parts.count == 2 {
                found[parts[1], default: Tables()].header = (entries, line)
            } else {
                found[parts[1], default: Tables()].steps[parts[2]] = (entries, line)
            }
        }
        return found
    }

    /// Checks one pipeline's tables: every problem is an error naming the file, the line and the key.
    package static func parse(
        name: String,
        _ tables: Tables,
        file: String
    ) throws(ConfigurationError) -> Pipeline {
        let table = "pipeline.\(name)"
        guard let header = tables.header else {
            let line = tables.steps.values.compactMap(\.line).min()
            throw ConfigurationError(file: file, line: line, "[\(table)] is missing: it lists the pipeline's steps")
        }
        func fail(_ entry: TOMLDocument.Entry?, _ message: String) -> ConfigurationError {
            ConfigurationError(file: file, line: entry?.line ?? header.line, message)
        }
        if let unknown = header.entries.keys.sorted().first(where: { $0 != "steps" }) {
            throw fail(
                header.entries[unknown],
                "unknown key \(table).\(unknown) (known: steps; a step's settings go in [\(table).STEP])"
            )
        }
        guard let stepsEntry = header.entries["steps"] else {
            throw fail(nil, "[\(table)] needs steps, the step names in order (steps = [\"plan\", \"implement\"])")
        }
        guard case .array(let items) = stepsEntry.value, !items.isEmpty else {
            throw fail(stepsEntry, "\(table).steps must be a non-empty list of step names")
        }
        var order: [String] = []
        for item in items {
            guard let id = item.stringValue, isName(id) else {
                throw fail(
                    stepsEntry,
                    "\(table).steps: \(item) is not a step name (lowercase letters, digits, - and _)"
                )
            }
            guard !order.contains(id) else { throw fail(stepsEntry, "\(table).steps names \(id) twice") }
            order.append(id)
        }
        guard order.contains(where: { $0 != gateStep }) else {
            throw fail(stepsEntry, "\(table).steps has no step but the gate: a pipeline runs at least one agent")
        }
        for (id, step) in tables.steps.sorted(by: { $0.key < $1.key }) {
            guard order.contains(id) else {
                throw ConfigurationError(
                    file: file,
                    line: step.line,
                    "[\(table).\(id)] is not one of \(table).steps (\(order.joined(separator: ", ")))"
                )
            }
            guard id != gateStep else {
                throw ConfigurationError(
                    file: file,
                    line: step.line,
                    "[\(table).gate] takes no settings: the gate step runs the mission's verify and checks"
                )
            }
        }
        var steps: [PipelineStep] = []
        for id in order {
            if id == gateStep {
                steps.append(.gate)
                continue
            }
            let settings = tables.steps[id] ?? ([:], nil)
            steps.append(try step(id, settings.entries, table: "\(table).\(id)", file: file, line: settings.line))
        }
        let pipeline = Pipeline(name: name, steps: steps)
        try pipeline.checkReferences(tables: tables, file: file)
        return pipeline
    }

    /// Inputs read earlier steps' files; `goto` goes back to an earlier agent step; something writes.
    private func checkReferences(tables: Tables, file: String) throws(ConfigurationError) {
        for (index, step) in steps.enumerated() where !step.isGate {
            let entries = tables.steps[step.id]?.entries ?? [:]
            let table = "pipeline.\(name).\(step.id)"
            let earlier = steps[..<index]
            for input in step.inputs {
                guard let source = earlier.first(where: { $0.id == input.step }) else {
                    let known = earlier.map(\.id).joined(separator: ", ")
                    throw ConfigurationError(
                        file: file,
                        line: entries["inputs"]?.line,
                        "\(table).inputs: \(input) reads step \(input.step), which does not run before \(step.id)"
                            + (known.isEmpty ? " (no step does)" : " (earlier: \(known))")
                    )
                }
                guard source.readableFiles.contains(input.file) else {
                    throw ConfigurationError(
                        file: file,
                        line: entries["inputs"]?.line,
                        "\(table).inputs: step \(source.id) leaves no \(input.file) (it leaves "
                            + source.readableFiles.joined(separator: ", ") + ")"
                    )
                }
            }
            if case .goto(let target) = step.onFail {
                guard let goal = earlier.first(where: { $0.id == target }), !goal.isGate else {
                    let known = earlier.filter { !$0.isGate }.map(\.id).joined(separator: ", ")
                    throw ConfigurationError(
                        file: file,
                        line: entries["on_fail"]?.line,
                        "\(table).on_fail: goto goes back to an earlier agent step, and \(target) is not one"
                            + (known.isEmpty ? " (none runs before \(step.id))" : " (earlier: \(known))")
                    )
                }
            }
        }
        guard steps.contains(where: { !$0.isGate && $0.mode == .write }) else {
            throw ConfigurationError(
                file: file,
                line: tables.header?.line,
                "every step of pipeline.\(name) is read-only: nothing it does could land"
            )
        }
    }

    private static func step(
        _ id: String,
        _ entries: [String: TOMLDocument.Entry],
        table: String,
        file: String,
        line: Int?
    ) throws(ConfigurationError) -> PipelineStep {
        func fail(_ entry: TOMLDocument.Entry?, _ message: String) -> ConfigurationError {
            ConfigurationError(file: file, line: entry?.line ?? line, message)
        }
        if let unknown = entries.keys.sorted().first(where: { !stepKeys.contains($0) }) {
            throw fail(entries[unknown], "unknown key \(table).\(unknown) (known: \(stepKeys.joined(separator: ", ")))")
        }
        func text(_ key: String) throws(ConfigurationError) -> String? {
            guard let entry = entries[key] else { return nil }
            guard let value = entry.value.stringValue, !value.isEmpty else {
                throw fail(entry, "\(table).\(key) must be a non-empty string")
            }
            return value
        }
        func list(_ key: String) throws(ConfigurationError) -> [String] {
            guard let entry = entries[key] else { return [] }
            guard case .array(let items) = entry.value else { throw fail(entry, "\(table).\(key) must be a list") }
            var values: [String] = []
            for item in items {
                guard let value = item.stringValue, !value.isEmpty else {
                    throw fail(entry, "\(table).\(key): \(item) is not a non-empty string")
                }
                values.append(value)
            }
            return values
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
            guard let entry = entries[key] else { return nil }
            guard let value = entry.value.intValue, range.contains(value) else {
                throw fail(
                    entry,
                    "\(table).\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound)"
                )
            }
            return value
        }
        func relativeFile(_ value: String, key: String) throws(ConfigurationError) -> String {
            let parts = value.split(separator: "/", omittingEmptySubsequences: false)
            guard !value.hasPrefix("/"), !parts.contains(".."), !parts.contains(""), !parts.contains(".") else {
                throw fail(entries[key], "\(table).\(key): \(value) must be a relative path without . or ..")
            }
            return value
        }

        var step = PipelineStep(id: id)
        if let name = try text("backend") {
            guard let backend = BackendName(rawValue: name) else {
                let known = BackendName.allCases.map(\.rawValue).joined(separator: ", ")
                throw fail(entries["backend"], "\(table).backend: \(name) is not a backend (\(known))")
            }
            step.backend = backend
        }
        step.model = try text("model")
        step.command = try text("command")
        if step.command != nil && step.backend != .command {
            throw fail(entries["command"], "\(table).command is the command line of backend = \"command\"")
        }
        if let mode = try text("mode") {
            guard let value = PipelineStep.Mode(rawValue: mode) else {
                throw fail(entries["mode"], "\(table).mode must be read-only or write, not \(mode)")
            }
            step.mode = value
        }
        if let prompt = try text("prompt") { step.prompt = try relativeFile(prompt, key: "prompt") }
        var inputs: [PipelineInput] = []
        for value in try list("inputs") {
            guard let input = PipelineInput(value) else {
                throw fail(entries["inputs"], "\(table).inputs: \(value) is not STEP/FILE (plan/plan.md)")
            }
            inputs.append(input)
        }
        step.inputs = inputs
        var outputs: [String] = []
        for value in try list("outputs") {
            outputs.append(try relativeFile(value, key: "outputs"))
        }
        if let clash = outputs.first(where: PipelineStep.standardFiles.contains) {
            throw fail(entries["outputs"], "\(table).outputs: \(clash) is a file Flotilla writes for every step")
        }
        step.outputs = outputs
        if let entry = entries["timeout"] {
            guard let seconds = entry.value.numberValue, (1...3600).contains(seconds) else {
                throw fail(entry, "\(table).timeout must be a number of seconds from 1 to 3600")
            }
            step.timeoutSeconds = seconds
        }
        step.retries = try integer("retries", 0...10) ?? 0
        if let verdict = try text("verdict") { step.verdict = try relativeFile(verdict, key: "verdict") }
        if let policy = try text("on_fail") {
            guard let value = PipelineFailurePolicy(policy) else {
                throw fail(
                    entries["on_fail"],
                    "\(table).on_fail must be stop, continue, goto:STEP or human, not \(policy)"
                )
            }
            step.onFail = value
        }
        if let loops = try integer("max_loops", 1...5) {
            guard case .goto = step.onFail else {
                throw fail(entries["max_loops"], "\(table).max_loops counts the returns of on_fail = \"goto:STEP\"")
            }
            step.maxLoops = loops
        }
        step.paths = try list("paths")
        if !step.paths.isEmpty && step.mode == .readOnly {
            throw fail(entries["paths"], "\(table).paths limits where a step writes, and \(id) is read-only")
        }
        if step.model != nil && step.backend == nil {
            throw fail(entries["model"], "\(table).model needs \(table).backend: the mission's backend has its model")
        }
        return step
    }

    /// Lowercase letters, digits, `-` and `_`, a letter first.
    package static func isName(_ text: String) -> Bool {
        guard let first = text.first, first.isASCII, first.isLowercase else { return false }
        return text.allSatisfy { $0 == "-" || $0 == "_" || ($0.isASCII && ($0.isLowercase || $0.isNumber)) }
    }
}
