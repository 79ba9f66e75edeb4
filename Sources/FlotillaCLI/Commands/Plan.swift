import ArgumentParser
import FlotillaCore
import FlotillaEngine
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
                unless -y.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "The goal, in words.")
        var goal: String?

        @Option(help: "A file holding the goal.")
        var goalFile: String?

        @Option(name: [.customShort("o"), .customLong("file")], help: "Where to write the checklist.")
        var file = "ACCEPTANCE.md"

        @Option(help: "Planner API: openai (any OpenAI-compatible server) or anthropic.")
        var planner: LanguageModelAPI?

        @Option(help: "The planner's API root, e.g. http://127.0.0.1:8000/v1.")
        var plannerURL: String?

        @Option(help: "The planner's model.")
        var plannerModel: String?

        @Option(help: "How many times an invalid checklist is sent back for repair.")
        var repairs = 2

        @Flag(name: [.customShort("y"), .long], help: "Write the checklist without review.")
        var yes = false

        func validate() throws {
            guard (goal == nil) != (goalFile == nil) else {
                throw ValidationError("give one of --goal and --goal-file")
            }
            guard repairs >= 0 else { throw ValidationError("--repairs must be at least 0") }
        }

        func run() async throws {
            let composition = Composition()
            let goalText = try readGoal()
            let root = try? await composition.repositoryRoot(global.repo)
            let configured = try Configuration.load(root: root, environment: composition.environment).planner
            let model = try languageModel(composition.environment, configured)
            if model == nil {
                Console.err(
                    "no planner configured (--planner-url, --planner anthropic, or FLOTILLA_PLANNER_URL): writing a "
                        + "one-group checklist from the goal's sentences"
                )
            } else if let model {
                Console.err("planning with \(model.label)…")
            }
            let context = await repositoryContext(composition)
            let result: Planner.Result
            do {
                result = try await Planner(model: model, repairs: repairs).plan(goal: goalText, context: context)
            } catch let error as PlannerError {
                throw InputError(error.description)
            }
            if result.rounds > 1 {
                Console.err("the first answer was invalid; repaired in \(result.rounds - 1) round(s)")
            }
            var checklist = result.checklist
            let path = URL(
                fileURLWithPath: file,
                relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            )
            .standardizedFileURL.path
            if !yes {
                guard let reviewed = try review(checklist, path: path, environment: composition.environment) else {
                    Console.err("nothing written")
                    return
                }
                checklist = reviewed
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
                throw InputError("cannot read the goal file \(goalFile ?? "")")
            }
            let text = String(decoding: data, as: UTF8.self).trimmingWhitespace()
            guard !text.isEmpty else { throw InputError("the goal file \(goalFile) is empty") }
            return text
        }

        /// The configured planner: flags, then environment; nil when none is.
        private func languageModel(
            _ environment: [String: String],
            _ configured: [String: String]
        ) throws
            -> (any LanguageModel)?
        {
            let api = environment["FLOTILLA_PLANNER"] ?? configured["api"]
            if let api, LanguageModelAPI(rawValue: api) == nil {
                throw InputError("planner api \(api) is not one of openai, anthropic")
            }
            return try LanguageModels.make(
                role: "planner",
                api: planner ?? api.flatMap(LanguageModelAPI.init(rawValue:)),
                url: plannerURL ?? environment["FLOTILLA_PLANNER_URL"] ?? configured["url"],
                model: plannerModel ?? environment["FLOTILLA_PLANNER_MODEL"] ?? configured["model"],
                environment: environment
            )
        }

        /// What the planner is told about the repository: its tracked files (the first 200).
        private func repositoryContext(_ composition: Composition) async -> String {
            guard let root = try? await composition.repositoryRoot(global.repo),
                let files = try? await composition.processes.run(
                    ProcessRequest(
                        executable: "git",
                        arguments: ["ls-files"],
                        workingDirectory: root,
                        environment: composition.childEnvironment()
                    )
                ), files.termination.isSuccess
            else { return "(not a git repository)" }
            let list = files.standardOutput.split(separator: "\n")
            return "Tracked files (\(list.count)):\n" + list.prefix(200).joined(separator: "\n")
        }

        /// Shows the checklist and asks; returns what to write, or nil to write nothing.
        private func review(_ checklist: Checklist, path: String, environment: [String: String]) throws -> Checklist? {
            guard isatty(STDIN_FILENO) == 1 else {
                throw InputError("reviewing the checklist needs a terminal; pass -y to write it without review")
            }
            var current = checklist
            while true {
                Console.out(ChecklistRenderer.render(current))
                FileHandle.standardOutput.write(Data("Write it to \(path)? [Y/n/e] ".utf8))
                let answer = (readLine() ?? "n").trimmingWhitespace().lowercased()
                switch answer {
                case "", "y", "yes": return current
                case "e", "edit":
                    current = try edit(current, environment: environment) ?? current
                default: return nil
                }
            }
        }

        /// Opens the checklist in `$EDITOR` until it validates (or the user gives up by emptying it).
        private func edit(_ checklist: Checklist, environment: [String: String]) throws -> Checklist? {
            let draft = NSTemporaryDirectory() + "flotilla-plan-\(UUID().uuidString.prefix(8)).md"
            defer { try? FileManager.default.removeItem(atPath: draft) }
            try ChecklistRenderer.render(checklist).write(toFile: draft, atomically: true, encoding: .utf8)
            while true {
                let editor = Process()
                editor.executableURL = URL(fileURLWithPath: "/bin/sh")
                editor.arguments = ["-c", "${EDITOR:-vi} \"$1\"", "editor", draft]
                try editor.run()
                editor.waitUntilExit()
                let text = (try? String(contentsOfFile: draft, encoding: .utf8)) ?? ""
                if text.trimmingWhitespace().isEmpty { return nil }
                do {
                    return try ChecklistParser.parse(text, file: (file as NSString).lastPathComponent)
                } catch {
                    Console.err("\(error)")
                    FileHandle.standardOutput.write(Data("Edit again? [Y/n] ".utf8))
                    if (readLine() ?? "n").trimmingWhitespace().lowercased().hasPrefix("n") { return nil }
                }
            }
        }
    }
}
