import ArgumentParser
import FlotillaAPI
import FlotillaAgents
import FlotillaCore
import FlotillaService
import FlotillaSystem
import Foundation

extension Flotilla {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Set Flotilla up: your agent, models and keys, and this project's verify command.",
            discussion: """
                Writes the user's config.toml ([agent], [planner], [critic], [keys]; mode 0600) and, inside a git \
                repository, the project's flotilla.toml ([run]: verify, agents, max_cost_usd, protect). Without \
                --non-interactive it asks for what the flags leave out (on a terminal, keys are read without echo); \
                with it, only the flags given are written. Existing files are kept unless --force. Then run \
                `flotilla doctor` to check the result.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Ask nothing: write what the flags say (for scripts).")
        var nonInteractive = false

        @Option(
            help: "The agent backend: an agent CLI (claude, codex, gemini, opencode, cursor, aider, mini) or command."
        )
        var backend: BackendName?

        @Option(help: "The agent's model (default: the tool's own).")
        var model: String?

        @Option(help: "The agent CLI's executable, when not its name on PATH.")
        var agentBinary: String?

        @Option(help: "For --backend command: the command line each attempt runs.")
        var agentCommand: String?

        @Option(help: "An agent CLI that takes over while the backend is rate limited (repeatable).")
        var fallbackBackend: [BackendName] = []

        @Option(help: "The planner: openai or anthropic (HTTP APIs), or claude or codex (their CLIs).")
        var planner: LanguageModelAPI?

        @Option(help: "The planner's API root, e.g. http://127.0.0.1:8000/v1 (implies --planner openai).")
        var plannerURL: String?

        @Option(help: "The planner's model.")
        var plannerModel: String?

        @Option(help: "The critic: openai or anthropic (HTTP APIs), or claude or codex (their CLIs).")
        var critic: LanguageModelAPI?

        @Option(help: "The critic's API root (implies --critic openai).")
        var criticURL: String?

        @Option(help: "The critic's model.")
        var criticModel: String?

        @Option(
            name: .customLong("key"),
            help: """
                An API key to keep in config.toml, as PROVIDER=VALUE, or PROVIDER=- to read it from stdin \
                (repeatable). Providers: anthropic, claude_oauth_token, openai, codex, gemini, google, cursor.
                """
        )
        var keys: [String] = []

        @Option(help: "The project's verify command: exit 0 passes.")
        var verify: String?

        @Option(help: "The project's agents working in parallel.")
        var agents: Int?

        @Option(parsing: .unconditional, help: "The project's budget per mission in US dollars (-1: uncapped).")
        var maxCost: Double?

        @Option(help: "A path or glob agents may not change in this project (repeatable).")
        var protect: [String] = []

        @Option(
            help: "Where the user's configuration goes (default: $XDG_CONFIG_HOME or ~/.config, flotilla/config.toml)."
        )
        var userConfig: String?

        @Flag(help: "Replace configuration files that exist.")
        var force = false

        func validate() throws {
            if let agents, !(1...64).contains(agents) { throw ValidationError("--agents must be between 1 and 64") }
            if let maxCost, maxCost != -1 && maxCost < 0 {
                throw ValidationError("--max-cost must be -1 or at least 0")
            }
            if backend == .simulate {
                throw ValidationError("--backend simulate is for demos and tests; choose an agent")
            }
            for url in [plannerURL, criticURL].compactMap(\.self) {
                guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? "") else {
                    throw ValidationError("\(url) is not an http(s) URL")
                }
            }
        }

        func run() async throws {
            let composition = Composition()
            let root: String? =
                global.repo != nil
                ? try await composition.repositoryRoot(global.repo)
                : try? await composition.repositoryRoot(nil)
            guard let userPath = userConfig ?? Configuration.userFile(composition.environment) else {
                throw FlotillaError.invalid("no HOME or XDG_CONFIG_HOME to put config.toml in; pass --user-config PATH")
            }
            var answers = try Answers(flags: self)
            if !nonInteractive {
                var wizard = Wizard(composition: composition, root: root)
                try wizard.complete(&answers)
            }
            let files = try answers.render(root: root, userPath: userPath)
            for file in files where FileManager.default.fileExists(atPath: file.path) && !force {
                throw FlotillaError.invalid("\(file.path) exists; pass --force to replace it (nothing was written)")
            }
            if !nonInteractive && !Wizard.confirm(files) { throw FlotillaError.invalid("nothing was written") }
            try write(files)
            switch global.output {
            case .json:
                Console.json(Dictionary(uniqueKeysWithValues: files.map { ($0.role, $0.path) }))
            case .table:
                for file in files { Console.out("wrote \(file.path)") }
                Console.err("next: `flotilla doctor` checks the setup; `flotilla run` starts a mission")
            }
        }

        /// Writes every file beside its target first, then renames them all, so a failure leaves the old files.
        private func write(_ files: [Answers.File]) throws {
            var drafts: [(draft: String, path: String)] = []
            defer { for draft in drafts { try? FileManager.default.removeItem(atPath: draft.draft) } }
            for file in files {
                let directory = (file.path as NSString).deletingLastPathComponent
                let draft = directory + "/.\((file.path as NSString).lastPathComponent).\(getpid()).tmp"
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw FlotillaError.invalid(
                        "cannot write \(file.path): \(error.localizedDescription) (nothing was written)"
                    )
                }
                guard
                    FileManager.default.createFile(
                        atPath: draft,
                        contents: Data(file.text.utf8),
                        attributes: [.posixPermissions: file.private ? 0o600 : 0o644]
                    )
                else {
                    throw FlotillaError.invalid(
                        "cannot write \(file.path): its directory is not writable (nothing was written)"
                    )
                }
                drafts.append((draft, file.path))
            }
            for (index, draft) in drafts.enumerated() where rename(draft.draft, draft.path) != 0 {
                let reason = String(cString: strerror(errno))
                let written = drafts[..<index].map(\.path)
                throw FlotillaError.invalid(
                    "cannot write \(draft.path): \(reason)"
                        + (written.isEmpty
                            ? " (nothing was written)" : " (\(written.joined(separator: ", ")) was written)")
                )
            }
        }
    }
}

/// What `flotilla init` writes, from the flags and the wizard's questions.
struct Answers {
    var backend: BackendName?
    var model: String?
    var agentBinary: String?
    var agentCommand: String?
    var fallbacks: [BackendName]
    var planner: LanguageModelAPI?
    var plannerURL: String?
    var plannerModel: String?
    var critic: LanguageModelAPI?
    var criticURL: String?
    var criticModel: String?
    /// Keys to keep, by `[keys]` name.
    var keys: [String: String] = [:]
    var verify: String?
    var agents: Int?
    var maxCost: Double?
    var protect: [String]

    /// A file to write: the user's or the project's.
    struct File {
        var role: String
        var path: String
        var text: String
        /// Readable by its owner only (it may hold keys).
        var `private`: Bool
    }

    init(flags: Flotilla.Init) throws {
        backend = flags.backend
        model = flags.model
        agentBinary = flags.agentBinary.map {
            URL(fileURLWithPath: $0, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
                .standardizedFileURL.path
        }
        agentCommand = flags.agentCommand
        fallbacks = flags.fallbackBackend
        planner = flags.planner ?? (flags.plannerURL != nil ? .openai : nil)
        plannerURL = flags.plannerURL
        plannerModel = flags.plannerModel
        critic = flags.critic ?? (flags.criticURL != nil ? .openai : nil)
        criticURL = flags.criticURL
        criticModel = flags.criticModel
        verify = flags.verify
        agents = flags.agents
        maxCost = flags.maxCost
        protect = flags.protect
        var stdinTaken = false
        for given in flags.keys {
            let parts = given.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, APIKeys.variable(forConfigKey: parts[0]) != nil else {
                let known = APIKeys.kinds.map(\.configKey).joined(separator: ", ")
                throw FlotillaError.invalid(
                    "--key \(parts.first ?? given)=…: expected PROVIDER=VALUE with PROVIDER one of \(known)"
                )
            }
            var value = parts[1]
            if value == "-" {
                guard flags.nonInteractive else {
                    throw FlotillaError.invalid(
                        "--key \(parts[0])=- reads stdin, which the questions need; add --non-interactive"
                    )
                }
                guard !stdinTaken else { throw FlotillaError.invalid("--key: only one key can be read from stdin") }
                stdinTaken = true
                value = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                    .trimmingWhitespace()
            }
            guard !value.isEmpty else { throw FlotillaError.invalid("--key \(parts[0]): the key is empty") }
            keys[parts[0]] = value
        }
        if let backend, fallbacks.contains(backend) {
            throw FlotillaError.invalid("--fallback-backend \(backend.rawValue) is the backend itself")
        }
        if !fallbacks.isEmpty, backend == .command {
            throw FlotillaError.invalid("--fallback-backend needs an agent CLI backend to fall back from, not command")
        }
    }

    /// The files these answers make, each checked by reading it back as Flotilla will.
    func render(root: String?, userPath: String) throws -> [File] {
        var user = TOMLWriter(header: ["Flotilla: your agent, models and keys. Written by `flotilla init`."])
        var agent: [(key: String, value: JSONValue)] = []
        if let backend { agent.append(("backend", .string(backend.rawValue))) }
        if let model { agent.append(("model", .string(model))) }
        if let agentBinary { agent.append(("binary", .string(agentBinary))) }
        if let agentCommand { agent.append(("command", .string(agentCommand))) }
        if !fallbacks.isEmpty { agent.append(("fallback", .array(fallbacks.map { .string($0.rawValue) }))) }
        user.table("agent", agent)
        for (name, api, url, model) in [
            ("planner", planner, plannerURL, plannerModel), ("critic", critic, criticURL, criticModel),
        ] {
            var entries: [(key: String, value: JSONValue)] = []
            if let api { entries.append(("api", .string(api.rawValue))) }
            if let url { entries.append(("url", .string(url))) }
            if let model { entries.append(("model", .string(model))) }
            user.table(name, entries)
        }
        user.table("keys", keys.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        var files = [File(role: "user_config", path: userPath, text: user.text, private: true)]

        var run: [(key: String, value: JSONValue)] = []
        if let verify { run.append(("verify", .string(verify))) }
        if let agents { run.append(("agents", .number(Double(agents)))) }
        if let maxCost { run.append(("max_cost_usd", .number(maxCost))) }
        if !protect.isEmpty { run.append(("protect", .array(protect.map(JSONValue.string)))) }
        if !run.isEmpty {
            guard let root else {
                throw FlotillaError.invalid(
                    "--verify, --agents, --max-cost and --protect are a project's: run init inside a git repository, or pass --repo"
                )
            }
            var project = TOMLWriter(header: ["Flotilla: this project's settings. Written by `flotilla init`."])
            project.table("run", run)
            files.append(
                File(
                    role: "project_config",
                    path: (root as NSString).appendingPathComponent("flotilla.toml"),
                    text: project.text,
                    private: false
                )
            )
        }
        for file in files {
            do {
                _ = try ConfigurationFile.parse(
                    file.text,
                    file: file.path,
                    scope: file.role == "user_config" ? .user : .project
                )
            } catch {
                throw FlotillaError.invalid("init would write an invalid file (\(error)); nothing was written")
            }
        }
        return files
    }

    /// The key variables the chosen tools and roles read, one per provider (`ANTHROPIC_API_KEY` stands for
    /// `CLAUDE_CODE_OAUTH_TOKEN` too, `OPENAI_API_KEY` for `CODEX_API_KEY`, `GEMINI_API_KEY` for `GOOGLE_API_KEY`).
    var neededKeys: [String] {
        var variables: [String] = []
        for backend in [backend].compactMap(\.self) + fallbacks {
            variables += backend.dialect?.keyVariables(model: model, options: AgentCLIOptions()) ?? []
        }
        for (api, url) in [(planner, plannerURL), (critic, criticURL)] {
            switch api {
            case .anthropic?, .claude?: variables.append("ANTHROPIC_API_KEY")
            case .codex?: variables.append("OPENAI_API_KEY")
            case .openai? where url == nil: variables.append("OPENAI_API_KEY")
            case .openai?, nil: break
            }
        }
        let family = [
            "CLAUDE_CODE_OAUTH_TOKEN": "ANTHROPIC_API_KEY", "CODEX_API_KEY": "OPENAI_API_KEY",
            "GOOGLE_API_KEY": "GEMINI_API_KEY",
        ]
        var seen: [String] = []
        for variable in variables.map({ family[$0] ?? $0 }) where !seen.contains(variable) { seen.append(variable) }
        return seen
    }
}

/// The questions `flotilla init` asks for what the flags leave out, one line of stdin each.
struct Wizard {
    let composition: Composition
    let root: String?
    private let terminal = isatty(STDIN_FILENO) == 1

    init(composition: Composition, root: String?) {
        self.composition = composition
        self.root = root
    }

    mutating func complete(_ answers: inout Answers) throws {
        let installed = BackendName.allCases.filter { backend in
            guard let program = backend.dialect?.program else { return false }
            return
                (try? ExecutableLocator.locate(
                    program,
                    environment: composition.childEnvironment(),
                    workingDirectory: FileManager.default.currentDirectoryPath
                )) != nil
        }
        if answers.backend == nil {
            let offered = installed.map(\.rawValue) + ["command"]
            answers.backend = try ask(
                "Agent backend (\(installed.isEmpty ? "no agent CLI found on PATH" : "installed: \(installed.map(\.rawValue).joined(separator: ", "))"); or command)",
                default: offered[0]
            ) { answer in
                guard let backend = BackendName(rawValue: answer), backend != .simulate else {
                    throw FlotillaError.invalid(
                        "\(answer) is not one of \(BackendName.allCases.filter { $0 != .simulate }.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                return backend
            }
        }
        if answers.backend == .command, answers.agentCommand == nil {
            answers.agentCommand = try ask("Command each attempt runs (the prompt is on its stdin)") { answer in
                guard !answer.isEmpty else {
                    throw FlotillaError.invalid("the command is needed for the command backend")
                }
                return answer
            }
        }
        if answers.model == nil, answers.backend != .command {
            answers.model = try optional(
                "Model for \(answers.backend?.rawValue ?? "the agent") (empty: the tool's default)"
            )
        }
        if answers.fallbacks.isEmpty, answers.backend != .command {
            let primary = answers.backend
            answers.fallbacks = try ask(
                "Fallback agents while it is rate limited (comma-separated; empty: none)",
                default: ""
            ) { answer in
                try answer.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }.map {
                    name in
                    guard let backend = BackendName(rawValue: name), backend.dialect != nil, backend != primary else {
                        throw FlotillaError.invalid("\(name) is not another agent CLI")
                    }
                    return backend
                }
            }
        }
        for role in ["planner", "critic"] {
            let given = role == "planner" ? answers.planner : answers.critic
            guard given == nil else { continue }
            let api: LanguageModelAPI? = try ask(
                "\(role.capitalized): openai or anthropic (HTTP), claude or codex (their CLIs), or none",
                default: "none"
            ) { answer in
                if answer == "none" { return nil }
                guard let api = LanguageModelAPI(rawValue: answer) else {
                    throw FlotillaError.invalid("\(answer) is not one of \(LanguageModelAPI.names), none")
                }
                return api
            }
            guard let api else { continue }
            var url: String?
            if api == .openai {
                url = try ask("\(role.capitalized) API root (empty: https://api.openai.com/v1)", default: "") {
                    answer in
                    if answer.isEmpty { return nil }
                    guard let parsed = URL(string: answer), ["http", "https"].contains(parsed.scheme ?? "") else {
                        throw FlotillaError.invalid("\(answer) is not an http(s) URL")
                    }
                    return answer
                }
            }
            let model = try optional("\(role.capitalized) model (empty: the API's default)")
            if role == "planner" {
                (answers.planner, answers.plannerURL, answers.plannerModel) = (api, url, model)
            } else {
                (answers.critic, answers.criticURL, answers.criticModel) = (api, url, model)
            }
        }
        let found = try composition.apiKeys(root: root)
        for variable in answers.neededKeys where found.value(variable) == nil {
            guard let kind = APIKeys.kinds.first(where: { $0.variable == variable }),
                answers.keys[kind.configKey] == nil
            else { continue }
            if let key = try secret(
                "\(variable) (for \(kind.usedBy)) is not set; paste it to keep it in config.toml (empty: skip)"
            ) {
                answers.keys[kind.configKey] = key
            }
        }
        guard root != nil else { return }
        if answers.verify == nil {
            answers.verify = try optional("Verify command for this project (exit 0 passes)", default: suggestedVerify())
        }
        if answers.agents == nil {
            answers.agents = try ask("Agents working in parallel", default: "2") { answer in
                guard let count = Int(answer), (1...64).contains(count) else {
                    throw FlotillaError.invalid("\(answer) is not a number from 1 to 64")
                }
                return count
            }
        }
        if answers.maxCost == nil {
            answers.maxCost = try ask("Budget per mission in US dollars (-1: uncapped)", default: "10") { answer in
                guard let dollars = Double(answer), dollars == -1 || dollars >= 0 else {
                    throw FlotillaError.invalid("\(answer) is not an amount of dollars (or -1)")
                }
                return dollars
            }
        }
    }

    /// Shows what will be written (keys masked) and asks to go ahead.
    static func confirm(_ files: [Answers.File]) -> Bool {
        for file in files {
            Console.err("\n\(file.path):")
            for line in file.text.split(separator: "\n", omittingEmptySubsequences: false) {
                let masked = file.private && isKeyLine(String(line))
                Console.err("  " + (masked ? String(line.prefix { $0 != "=" }) + "= '…'" : String(line)))
            }
        }
        FileHandle.standardError.write(Data("Write \(files.count == 1 ? "this file" : "these files")? [Y/n] ".utf8))
        return ["", "y", "yes"].contains((readLine() ?? "n").trimmingWhitespace().lowercased())
    }

    private static func isKeyLine(_ line: String) -> Bool {
        let key = String(line.prefix { $0 != "=" }).trimmingWhitespace()
        return APIKeys.variable(forConfigKey: key) != nil
    }

    /// What the repository's build files suggest as its test command.
    private func suggestedVerify() -> String? {
        guard let root else { return nil }
        let suggestions = [
            ("Package.swift", "swift test"), ("Cargo.toml", "cargo test"), ("go.mod", "go test ./..."),
            ("package.json", "npm test"), ("pyproject.toml", "pytest"), ("Makefile", "make test"),
        ]
        return suggestions.first { FileManager.default.fileExists(atPath: root + "/" + $0.0) }?.1
    }

    private func optional(_ question: String, default value: String? = nil) throws -> String? {
        try ask(question, default: value ?? "") { $0.isEmpty ? nil : $0 }
    }

    /// Asks until the answer reads; an empty answer is `default`.
    ///
    /// Stdin ending is an error: nothing is written.
    private func ask<T>(_ question: String, default value: String? = nil, read: (String) throws -> T) throws -> T {
        while true {
            let shown = value.map { $0.isEmpty ? "" : " [\($0)]" } ?? ""
            FileHandle.standardError.write(Data("\(question)\(shown): ".utf8))
            guard let line = readLine() else {
                throw FlotillaError.invalid(
                    "stdin ended before init had its answers; nothing was written (pass --non-interactive with flags)"
                )
            }
            let answer = line.trimmingWhitespace()
            do {
                return try read(answer.isEmpty ? (value ?? "") : answer)
            } catch let error as FlotillaError {
                // At a terminal the question is asked again; from a pipe there is nobody to ask.
                guard terminal else { throw error }
                Console.err(error.description)
            }
        }
    }

    /// Reads a key without echoing it on a terminal.
    private func secret(_ question: String) throws -> String? {
        guard terminal else { return try optional(question) }
        var original = termios()
        tcgetattr(STDIN_FILENO, &original)
        var quiet = original
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &original)
            Console.err("")
        }
        return try optional(question)
    }
}
