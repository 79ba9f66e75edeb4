import FlotillaCore
import FlotillaEngine
import FlotillaService
import Foundation

/// Planning a checklist from a goal, for `plan` and for `run` without a checklist: the configured planner (or
/// the fallback, said aloud), the repository's context, and the review at a terminal.
struct PlanningSession {
    let composition: Composition
    let root: String?
    let model: (any LanguageModel)?
    let repairs: Int
    let maxTokens: Int

    /// Creates the session; each of the planner's flags falls back to the environment, then to the files.
    ///
    /// A planner that is a CLI (claude, codex) runs confined as `fields` ask, like every model role: read-only on
    /// the repository, with a private copy of its login and none of the tool's shared settings. An HTTP planner
    /// samples as `fields` say.
    init(
        composition: Composition,
        repo: String?,
        planner flags: LanguageModelSettings,
        fields given: MissionFields = MissionFields(),
        repairs: Int,
        maxTokens: Int? = nil
    ) async throws {
        self.composition = composition
        root = try? await composition.repositoryRoot(repo)
        let environment = composition.environment
        let configuration = try Configuration.load(root: root, environment: environment)
        let configured = configuration.planner
        let api = environment["FLOTILLA_PLANNER"] ?? configured["api"]
        if let api, LanguageModelAPI(rawValue: api) == nil {
            throw FlotillaError.invalid("planner api \(api) is not one of \(LanguageModelAPI.names)")
        }
        let directory = root ?? FileManager.default.currentDirectoryPath
        var settings = LanguageModelSettings(
            api: flags.api ?? api.flatMap(LanguageModelAPI.init(rawValue:)),
            url: flags.url ?? environment["FLOTILLA_PLANNER_URL"] ?? configured["url"],
            model: flags.model ?? environment["FLOTILLA_PLANNER_MODEL"] ?? configured["model"],
            binary: flags.binary ?? configured["binary"],
            keyFiles: flags.keyFiles,
            sampling: Sampling(given)
        )
        if settings.api == .claude || settings.api == .codex {
            var fields = given
            fields.keyFiles = (fields.keyFiles ?? []) + flags.keyFiles
            let confined = try await composition.sandbox(fields, backend: "planner")
            if let note = confined.note { Console.err("planner: \(note)") }
            settings.confinement = confined.role(repository: directory)
        }
        model = try LanguageModels.make(
            role: "planner",
            settings,
            configuration: configuration,
            composition: composition,
            directory: directory
        )
        self.repairs = repairs
        self.maxTokens = maxTokens ?? 4096
    }

    /// Plans `goal`, saying on stderr which planner works (or that none is configured) and how it went.
    func plan(goal: String) async throws -> Planner.Result {
        if let model {
            Console.err("planning with \(model.label)…")
        } else {
            Console.err(
                "no planner configured (--planner-url, --planner anthropic, FLOTILLA_PLANNER_URL or [planner] in "
                    + "flotilla.toml): writing a one-group checklist from the goal's sentences"
            )
        }
        let result: Planner.Result
        do {
            let files = await trackedFiles()
            result = try await Planner(model: model, repairs: repairs, maxTokens: maxTokens).plan(
                goal: goal,
                context: files.map { list in
                    "Tracked files (\(list.count)):\n" + list.prefix(200).joined(separator: "\n")
                } ?? "(not a git repository)",
                files: files.map(Set.init)
            )
        } catch let error as PlannerError {
            throw FlotillaError.invalid(error.description)
        }
        if result.rounds > 1 { Console.err("the first answer was invalid; repaired in \(result.rounds - 1) round(s)") }
        return result
    }

    /// The repository's tracked files (the planner is told the first 200; a planned probe must run one of them).
    private func trackedFiles() async -> [String]? {
        guard let root,
            let files = try? await composition.processes.run(
                ProcessRequest(
                    executable: "git",
                    arguments: ["ls-files"],
                    workingDirectory: root,
                    environment: composition.childEnvironment()
                )
            ), files.termination.isSuccess
        else { return nil }
        return files.standardOutput.split(separator: "\n").map(String.init)
    }

    /// The planned checklist as it may run; nil when the person declined it.
    ///
    /// Reviewed by a person at the terminal (who sees each group's `Check:`), or, without review (`-y`), with the
    /// checks the planner wrote dropped unless `keepChecks` (`--run-planned-checks`): a command a model wrote becomes a
    /// gate only with a person's yes.
    func accept(_ checklist: Checklist, review reviewing: Bool, keepChecks: Bool, question: String) throws -> Checklist?
    {
        if reviewing { return try review(checklist, question: question) }
        guard !keepChecks else { return checklist }
        var accepted = checklist
        let checked = checklist.groups.filter { $0.check != nil }.map(\.id)
        if !checked.isEmpty {
            Console.err(
                "warning: the planner wrote checks (commands) for \(checked.joined(separator: ", ")); they are dropped "
                    + "and the verify command judges those groups: a model-written command runs only once a person "
                    + "has seen it (review without -y, or pass --run-planned-checks)"
            )
            for index in accepted.groups.indices { accepted.groups[index].check = nil }
        }
        // A probe is a command too: without a person's yes, the planned probes go, with the criteria that read them.
        if !checklist.allProbes.isEmpty {
            Console.err(
                "warning: the planner wrote probes (commands): \(checklist.allProbes.map(\.name).joined(separator: ", ")); "
                    + "they are dropped with the typed criteria that read them, for the same reason"
            )
            accepted.probes = []
            for index in accepted.groups.indices {
                accepted.groups[index].probes = []
                accepted.groups[index].typedCriteria = []
            }
        }
        return accepted
    }

    /// Shows the checklist and asks `question` ([Y/n/e]); returns the checklist to use, or nil for none.
    func review(_ checklist: Checklist, question: String) throws -> Checklist? {
        guard isatty(STDIN_FILENO) == 1 else {
            throw FlotillaError.invalid(
                "reviewing the planned checklist needs a terminal; pass -y to accept it without review"
            )
        }
        var current = checklist
        while true {
            Console.out(ChecklistRenderer.render(current))
            FileHandle.standardOutput.write(Data("\(question) [Y/n/e] ".utf8))
            switch (readLine() ?? "n").trimmingWhitespace().lowercased() {
            case "", "y", "yes": return current
            case "e", "edit": current = try edit(current) ?? current
            default: return nil
            }
        }
    }

    /// Opens the checklist in `$EDITOR` until it validates (or the user empties it to give up).
    private func edit(_ checklist: Checklist) throws -> Checklist? {
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
                return try ChecklistParser.parse(text, file: "ACCEPTANCE.md")
            } catch {
                Console.err("\(error)")
                FileHandle.standardOutput.write(Data("Edit again? [Y/n] ".utf8))
                if (readLine() ?? "n").trimmingWhitespace().lowercased().hasPrefix("n") { return nil }
            }
        }
    }
}
