import ArgumentParser
import FlotillaCore
import FlotillaEngine
import FlotillaService
import Foundation

extension Flotilla {
    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plan",
            abstract: "Write an acceptance checklist (ACCEPTANCE.md) for a goal, with a language model.",
            discussion: """
                The planner answers in a strict JSON schema; a checklist that does not validate (unknown or cyclic \
                dependencies, duplicate ids, empty groups) is sent back with its problems, up to --repairs times. \
                The planner is any OpenAI-compatible server (--planner-url, key in OPENAI_API_KEY) or Anthropic's API \
                (--planner anthropic, key in ANTHROPIC_API_KEY); FLOTILLA_PLANNER, FLOTILLA_PLANNER_URL and \
                FLOTILLA_PLANNER_MODEL set them too. With no planner configured, the checklist is one group made of \
                the goal's sentences, and the command says so. You review the result ([Y/n/e], e opens $EDITOR) \
                unless -y; with -y, a check (a command) the planner wrote for a group is dropped unless \
                --run-planned-checks.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "The goal, in words.")
        var goal: String?

        @Option(help: "A file holding the goal.")
        var goalFile: String?

        @Option(name: [.customShort("o"), .customLong("file")], help: "Where to write the checklist.")
        var file = "ACCEPTANCE.md"

        @OptionGroup var planner: PlannerOptions

        @Option(help: "A file holding an API key, as PROVIDER=PATH (repeatable); it wins over the environment.")
        var keyFile: [String] = []

        @Option(
            help: """
                How a planner CLI (claude, codex) is confined: auto (bubblewrap where it works), bwrap, or none. \
                Confined, it reads the repository and writes nothing.
                """
        )
        var sandbox: SandboxMode?

        @OptionGroup(title: "Sampling") var sampling: SamplingOptions

        @Option(help: "How many times an invalid checklist is sent back for repair.")
        var repairs = 2

        @Flag(name: [.customShort("y"), .long], help: "Write the checklist without review.")
        var yes = false

        @Flag(
            help: "With -y, keep the commands the planner writes as groups' checks (dropped unless a person saw them)."
        )
        var runPlannedChecks = false

        func validate() throws {
            guard (goal == nil) != (goalFile == nil) else {
                throw ValidationError("give one of --goal and --goal-file")
            }
            guard repairs >= 0 else { throw ValidationError("--repairs must be at least 0") }
        }

        func run() async throws {
            let composition = Composition()
            let goalText = try readGoal()
            var fields = MissionFields()
            fields.sandbox = sandbox
            sampling.apply(to: &fields)
            let session = try await PlanningSession(
                composition: composition,
                repo: global.repo,
                planner: planner.settings(keyFiles: keyFile),
                fields: fields,
                repairs: repairs,
                maxTokens: planner.plannerMaxTokens
            )
            let path = URL(
                fileURLWithPath: file,
                relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            )
            .standardizedFileURL.path
            let result = try await session.plan(goal: goalText)
            guard
                let checklist = try session.accept(
                    result.checklist,
                    review: !yes,
                    keepChecks: runPlannedChecks,
                    question: "Write it to \(path)?"
                )
            else {
                Console.err("nothing written")
                return
            }
            let markdown = ChecklistRenderer.render(checklist)
            try markdown.write(toFile: path, atomically: true, encoding: .utf8)
            switch global.output {
            case .json:
                let json = (try? JSONDecoder().decode(JSONValue.self, from: ChecklistJSON.encode(checklist))) ?? .null
                Console.json(
                    [
                        "file": JSONValue.string(path), "checklist": json, "rounds": .number(Double(result.rounds)),
                        "fallback": .bool(result.usedFallback), "cost_usd": .number(result.usage.costUSD),
                    ] as [String: JSONValue]
                )
            case .table:
                Console.out(
                    "wrote \(path): \(checklist.groups.count) groups, "
                        + "\(checklist.groups.reduce(0) { $0 + $1.criteria.count }) criteria"
                        + (result.usage.costUSD > 0 ? " (planning cost \(formatUSD(result.usage.costUSD)))" : "")
                )
            }
        }

        private func readGoal() throws -> String {
            if let goal { return goal }
            guard let goalFile, let data = FileManager.default.contents(atPath: goalFile) else {
                throw FlotillaError.invalid("cannot read the goal file \(goalFile ?? "")")
            }
            let text = String(decoding: data, as: UTF8.self).trimmingWhitespace()
            guard !text.isEmpty else { throw FlotillaError.invalid("the goal file \(goalFile) is empty") }
            return text
        }
    }
}
