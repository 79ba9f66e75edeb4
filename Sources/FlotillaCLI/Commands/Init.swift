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

        @OptionGroup(title: "Agent") var agent: AgentOptions

        @OptionGroup(title: "Planner") var planner: PlannerOptions

        @OptionGroup(title: "Critic") var critic: CriticOptions

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
            // The project's fields are mission fields: their rules (bounds included) are the missions' own.
            var project = MissionFields()
            project.verify = verify
            project.agents = agents
            project.maxCostUSD = maxCost
            project.protect = protect.nonEmpty
            do {
                _ = try MissionFields.decode(project.jsonObject, name: MissionOptions.flag)
            } catch {
                throw ValidationError(error.description)
            }
            if agent.backend == .simulate {
                throw ValidationError("--backend simulate is for demos and tests; choose an agent")
            }
            for url in [planner.plannerURL, critic.criticURL].compactMap(\.self) {
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
                try await wizard.complete(&answers)
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
