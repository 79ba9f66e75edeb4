import FlotillaCore
import Foundation

/// Turns a goal into an acceptance checklist with a language model, repairing invalid answers a bounded number
/// of times; without a model, a deterministic one-group checklist (and the caller says so).
package struct Planner: Sendable {
    package struct Result: Sendable {
        package var checklist: Checklist
        package var usage: Usage
        /// Answers asked for, the first included.
        package var rounds: Int
        /// Each call to the model, in order (the mission that follows keeps them in its ledger).
        package var calls: [ModelCall] = []
        /// No model was configured: the checklist is the deterministic fallback.
        package var usedFallback: Bool
    }

    private let model: (any LanguageModel)?
    private let repairs: Int
    private let maxTokens: Int

    /// `maxTokens` caps each answer (a small local model can otherwise write for minutes).
    package init(model: (any LanguageModel)?, repairs: Int = 2, maxTokens: Int = 4096) {
        self.model = model
        self.repairs = max(0, repairs)
        self.maxTokens = max(1, maxTokens)
    }

    /// Plans `goal`; `context` tells the model about the repository (its files, its verify command), and `files`
    /// (when known) are the repository's: a probe must run a file it has.
    package func plan(goal: String, context: String, files: Set<String>? = nil) async throws -> Result {
        guard let model else {
            return Result(checklist: Self.fallback(goal: goal), usage: .zero, rounds: 0, usedFallback: true)
        }
        var messages = [ModelMessage(.user, Self.prompt(goal: goal, context: context))]
        var usage = Usage()
        var problems: [String] = []
        var calls: [ModelCall] = []
        let clock = ContinuousClock()
        for round in 1...(repairs + 1) {
            var answerText = ""
            let start = clock.now
            do {
                let answer = try await model.answer(
                    StructuredRequest(
                        system: Self.system,
                        messages: messages,
                        schemaName: "acceptance_checklist",
                        schema: Self.schema,
                        maxTokens: maxTokens
                    )
                )
                usage.add(answer.usage)
                calls.append(
                    ModelCall(role: .planner, model: answer.model, usage: answer.usage, duration: clock.now - start)
                )
                answerText = answer.text
                let checklist = try ChecklistJSON.decode(try JSONEncoder().encode(answer.value), file: "the plan")
                let missing = Self.missingProbeFiles(checklist, files: files)
                guard !missing.isEmpty else {
                    return Result(checklist: checklist, usage: usage, rounds: round, calls: calls, usedFallback: false)
                }
                calls[calls.count - 1].error = "a probe runs a file the repository lacks"
                answerText = answer.text
                problems = missing
            } catch LanguageModelError.invalidAnswer(let answered, let found, let spent) {
                usage.add(spent)
                calls.append(
                    ModelCall(
                        role: .planner,
                        model: model.label,
                        usage: spent,
                        duration: clock.now - start,
                        error: "the answer does not fit the schema"
                    )
                )
                answerText = answered
                problems = found
            } catch let error as LanguageModelError {
                throw PlannerError.model(error)
            } catch let error as ChecklistError {
                // The shape was right but the checklist is not: duplicate ids, unknown dependencies, a cycle…
                calls[calls.count - 1].error = "the checklist is invalid"
                problems = error.problems.map(\.description)
            }
            messages.append(ModelMessage(.assistant, answerText))
            messages.append(ModelMessage(.user, Self.repair(problems)))
        }
        throw PlannerError.hopeless(rounds: repairs + 1, problems: problems)
    }

    static let system = """
        You plan software work as an acceptance checklist for coding agents. Split the goal into groups of \
        related, verifiable criteria; a group depends on the groups whose work it builds on, and the dependencies \
        must form no cycle. Ids are snake_case. Each criterion is one observable, testable statement. In `files`, \
        list the paths each group will most likely create or change (a hint that keeps agents working on the same \
        files apart; it may be empty). When the goal asks for a number (faster, smaller, cheaper, a latency, a \
        coverage), add `probes`: `NAME = COMMAND`, a command that runs a script the repository already has and \
        prints the figures as a JSON object; and in the group, `metrics` such as `NAME.FIELD <= 120` (comparisons \
        <=, <, >=, >, ==, !=; a number, or `base * 0.9` for a share of the figure before the work). Flotilla runs \
        the probes itself; agents cannot change them. Otherwise leave `probes`, `metrics`, `events` and \
        `predicates` empty: never write a criterion that is always true. Answer with the checklist as JSON only.
        """

    static func prompt(goal: String, context: String) -> String {
        "Goal:\n\(goal)\n\nRepository:\n\(context)\n\nWrite the acceptance checklist."
    }

    static func repair(_ problems: [String]) -> String {
        "That checklist is invalid:\n" + problems.map { "- \($0)" }.joined(separator: "\n")
            + "\nAnswer again with the whole corrected checklist."
    }

    /// The checklist's JSON form as a schema (strict: every property required, nothing else allowed).
    package static let schema: JSONValue = .object([
        "type": "object", "additionalProperties": false, "required": .array(["title", "probes", "groups"]),
        "properties": .object([
            "title": .object(["type": "string"]),
            "probes": strings,
            "groups": .object([
                "type": "array", "minItems": 1,
                "items": .object([
                    "type": "object", "additionalProperties": false,
                    "required": .array([
                        "id", "title", "depends_on", "check", "criteria", "files", "metrics", "events", "predicates",
                    ]),
                    "properties": .object([
                        "id": .object(["type": "string"]),
                        "title": .object(["type": "string"]),
                        "depends_on": .object(["type": "array", "items": .object(["type": "string"])]),
                        "check": .object(["type": .array(["string", "null"])]),
                        "criteria": .object(["type": "array", "minItems": 1, "items": .object(["type": "string"])]),
                        "files": .object(["type": .array(["array", "null"]), "items": .object(["type": "string"])]),
                        "metrics": strings, "events": strings, "predicates": strings,
                    ]),
                ]),
            ]),
        ]),
    ])

    private static let strings: JSONValue = .object([
        "type": .array(["array", "null"]), "items": .object(["type": "string"]),
    ])

    /// What of the planned probes runs a file the repository does not have (a script the model imagined), as problems
    /// to send back: a probe is taken from the base, so the file must exist before the first attempt.
    static func missingProbeFiles(_ checklist: Checklist, files: Set<String>?) -> [String] {
        guard let files else { return [] }
        let directories = Set(
            files.flatMap { file in
                let parts = file.split(separator: "/").dropLast()
                return parts.indices.map { parts[...$0].joined(separator: "/") }
            }
        )
        return checklist.allProbes.flatMap { probe in
            probe.command.split(whereSeparator: \.isWhitespace).map(String.init).compactMap { word -> String? in
                var path = word.trimmingCharacters(in: CharacterSet(charactersIn: "'\"`;()"))
                if path.hasPrefix("./") { path.removeFirst(2) }
                let looksLikePath =
                    path.contains("/") || path.range(of: #"\.[A-Za-z]{1,4}$"#, options: .regularExpression) != nil
                guard looksLikePath, !path.hasPrefix("-"), !path.hasPrefix("/"), !path.contains("://"),
                    !files.contains(path), !directories.contains(path)
                else { return nil }
                return "probe \(probe.name) runs \(path), which the repository does not have: a probe is taken from "
                    + "the base, so use a script that exists, or leave probes and metrics empty"
            }
        }
    }

    /// Placeholders for the metric a goal asks for, when no model wrote the checklist: they fail validation until a
    /// person fills them in (never an always-true criterion).
    static func placeholderMetrics(goal: String) -> [TypedCriterion] {
        let words = goal.lowercased()
        let kinds: [(words: [String], expression: String)] = [
            (["faster", "latency", "p95", "p99", "slow", "speed", "quicker"], "TODO.p95_ms <= TODO"),
            (["memory", "smaller", "size", "bytes"], "TODO.bytes <= TODO"),
            (["cheaper", "cost"], "TODO.cost_usd <= TODO"),
            (["coverage"], "TODO.coverage >= TODO"),
            (["throughput", "per second", "requests/s"], "TODO.per_second >= TODO"),
        ]
        return kinds.filter { kind in kind.words.contains { words.contains($0) } }.enumerated().map { index, kind in
            TypedCriterion(id: "metric-\(index + 1)", kind: .metric, expression: kind.expression)
        }
    }

    /// Without a model: one group whose criteria are the goal's sentences or bullet lines, titled by the first; a
    /// goal that asks for a number gets placeholder `Metric:` lines to fill in.
    package static func fallback(goal: String) -> Checklist {
        let lines = goal.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .map { $0.hasPrefix("- ") || $0.hasPrefix("* ") ? String($0.dropFirst(2)) : $0 }
            .filter { !$0.isEmpty }
        var criteria: [String] = []
        for line in lines {
            let sentences = line.split(separator: ". ").map { $0.trimmingCharacters(in: .whitespaces) }
            criteria += sentences.filter { !$0.isEmpty }
        }
        let title = String((criteria.first ?? "Goal").prefix(80))
        var group = ChecklistGroup(
            id: "goal",
            title: "Goal",
            dependsOn: [],
            check: nil,
            notes: "",
            criteria: criteria.isEmpty ? [title] : criteria
        )
        group.typedCriteria = placeholderMetrics(goal: goal)
        if !group.typedCriteria.isEmpty {
            group.notes =
                "Fill in each TODO before running: a `Probe: NAME = COMMAND` line above the first group (a script "
                + "in the repository that prints the figure as JSON), then its NAME.FIELD and target in the Metric line."
        }
        return Checklist(title: title, description: "", groups: [group])
    }
}

/// Why planning failed.
package enum PlannerError: Error, Sendable, CustomStringConvertible {
    case model(LanguageModelError)
    case hopeless(rounds: Int, problems: [String])

    package var description: String {
        switch self {
        case .model(let error): "planning failed: \(error)"
        case .hopeless(let rounds, let problems):
            "the planner gave no valid checklist in \(rounds) answer\(rounds == 1 ? "" : "s"); last problems: "
                + problems.prefix(5).joined(separator: "; ")
        }
    }
}
