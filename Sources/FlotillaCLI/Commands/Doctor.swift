import ArgumentParser
import FlotillaAPI
import FlotillaAgents
import FlotillaCore
import FlotillaEngine
import FlotillaLLM
import FlotillaService
import FlotillaSystem
import Foundation

extension Flotilla {
    struct Doctor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "doctor",
            abstract:
                "Check what Flotilla can use here: git, the agent CLIs and their versions, the configuration, API keys.",
            discussion: """
                Reads the user's config.toml and the project's flotilla.toml as a run would, and checks that the \
                agents they name are installed. Keys are looked up in the environment, then config.toml, and \
                reported as found (and where) or missing; their values are never printed. Exits 1 when a problem \
                is listed.
                """
        )

        @OptionGroup var global: GlobalOptions

        struct Report: Codable {
            struct Tool: Codable {
                var name: String
                var backend: String
                var path: String?
                var version: String?
            }

            struct Key: Codable {
                var name: String
                var found: Bool
                /// `environment` or the file and line (`config.toml:7`).
                var source: String?
                var usedBy: String

                enum CodingKeys: String, CodingKey {
                    case name, found, source
                    case usedBy = "used_by"
                }
            }

            /// What the configuration files say, as a run would read them.
            struct Settings: Codable {
                var files: [String]
                var backend: String?
                var model: String?
                var fallbacks: [String]
                var planner: String?
                var critic: String?
            }

            var git: Tool
            var agents: [Tool]
            var configuration: Settings?
            var keys: [Key]
            var daemon: String?
            /// The sandbox agents and verify runs get here with `--sandbox auto`.
            var sandbox: String
            /// What stops Flotilla from working here (doctor exits 1).
            var problems: [String]
            /// What is worth knowing but stops nothing.
            var notes: [String]
        }

        func run() async throws {
            let composition = Composition()
            let environment = composition.childEnvironment()
            let git = await probe("git", backend: "-", environment: environment, composition: composition)
            var agents: [Report.Tool] = []
            for backend in BackendName.allCases {
                guard let dialect = backend.dialect else { continue }
                agents.append(
                    await probe(
                        dialect.program,
                        backend: backend.rawValue,
                        environment: environment,
                        composition: composition
                    )
                )
            }
            var problems: [String] = []
            if git.path == nil { problems.append("git is not installed: Flotilla cannot work without it") }
            var notes: [String] = []
            if agents.allSatisfy({ $0.path == nil }) {
                notes.append("no agent CLI found on PATH; `--backend command --agent-command CMD` still works")
            }
            let root = try? await composition.repositoryRoot(global.repo)
            var settings: Report.Settings?
            var keys = APIKeys(environment: composition.environment)
            do {
                let configuration = try Configuration.load(root: root, environment: composition.environment)
                keys = try configuration.apiKeys(environment: composition.environment)
                settings = self.settings(configuration)
                problems += await configurationProblems(
                    configuration,
                    agents: agents,
                    root: root,
                    composition: composition
                )
                let servers = await modelServers(configuration)
                problems += servers.problems
                notes += servers.notes
            } catch {
                problems.append("configuration: \(error)")
            }
            let probe = await SandboxProbe.probe(runner: composition.processes, environment: environment)
            let sandbox: String
            if let bubblewrap = probe.bubblewrap {
                sandbox = "bwrap (\(bubblewrap)): sessions and verify runs are confined"
            } else {
                sandbox = "none: \(probe.problem ?? "bubblewrap does not work here")"
                notes.append(
                    "without a sandbox agents run as you and can reach your files; install bubblewrap (docs/SECURITY.md)"
                )
            }
            var daemon: String?
            if let root,
                let info = DaemonInfo.read(stateDirectory: MissionLayout(repository: root).stateDirectory),
                composition.processTable.isRunning(info.process)
            {
                daemon = "serving \(root) on http://\(info.urlHost):\(info.port) (process \(info.process.pid))"
            }
            let report = Report(
                git: git,
                agents: agents,
                configuration: settings,
                keys: APIKeys.kinds.map { kind in
                    Report.Key(
                        name: kind.variable,
                        found: keys.value(kind.variable) != nil,
                        source: keys.source(kind.variable)?.description,
                        usedBy: kind.usedBy
                    )
                },
                daemon: daemon,
                sandbox: sandbox,
                problems: problems,
                notes: notes
            )
            switch global.output {
            case .json: Console.json(report)
            case .table: Console.out(render(report))
            }
            if !problems.isEmpty { throw MissionExit(code: 1) }
        }

        private func settings(_ configuration: Configuration) -> Report.Settings {
            let fields = configuration.fields
            let critic = fields.critic?.rawValue ?? (fields.criticURL != nil ? "openai" : nil)
            return Report.Settings(
                files: configuration.files,
                backend: fields.backend?.rawValue,
                model: fields.model,
                fallbacks: (fields.fallbackBackends ?? []).map(\.rawValue),
                planner: (configuration.planner["api"] ?? (configuration.planner["url"] != nil ? "openai" : nil))
                    .map { api in
                        [api, configuration.planner["url"], configuration.planner["model"]].compactMap(\.self).joined(
                            separator: " "
                        )
                    },
                critic: critic.map { api in
                    [api, fields.criticURL, fields.criticModel].compactMap(\.self).joined(separator: " ")
                }
            )
        }

        /// Model servers the configuration points at, asked which models they serve: the agent's, which a run
        /// cannot do without (a problem), and the planner's and critic's (a run goes on without them: a note).
        private func modelServers(_ configuration: Configuration) async -> (problems: [String], notes: [String]) {
            let fields = configuration.fields
            func source(_ key: String) -> String { configuration.sources[key] ?? "configuration" }
            let servers: [(key: String, url: String?, model: String?, needed: Bool)] = [
                (
                    "agent_base_url", fields.agentBaseURL,
                    fields.model.map { $0.hasPrefix("openai/") ? String($0.dropFirst(7)) : $0 }, true
                ),
                ("planner.url", configuration.planner["url"], configuration.planner["model"], false),
                ("critic_url", fields.criticURL, fields.criticModel, false),
            ]
            var problems: [String] = []
            var notes: [String] = []
            for (key, url, model, needed) in servers {
                guard let url else { continue }
                var said: String?
                switch await ModelServerProbe.models(at: url) {
                case .failure(let failure):
                    said = "\(source(key)): the model server \(failure); start it, or fix the URL"
                case .success(let served):
                    if let model, !served.isEmpty, !served.contains(model) {
                        said = "\(source(key)): \(url) serves \(served.joined(separator: ", ")), not \(model)"
                    }
                }
                if let said {
                    if needed { problems.append(said) } else { notes.append(said) }
                }
            }
            return (problems, notes)
        }

        /// What in the configuration would stop a run: agents that are not installed, keys others can read.
        private func configurationProblems(
            _ configuration: Configuration,
            agents: [Report.Tool],
            root: String?,
            composition: Composition
        ) async -> [String] {
            var problems: [String] = []
            let fields = configuration.fields
            func source(_ key: String) -> String { configuration.sources[key] ?? "configuration" }
            if let name = fields.backend, let dialect = name.dialect {
                let backend = name.rawValue
                let binary = fields.agentBinary
                let found =
                    binary.map { FileManager.default.isExecutableFile(atPath: $0) }
                    ?? (agents.first { $0.backend == backend }?.path != nil)
                if !found {
                    problems.append(
                        "\(source(binary != nil ? "agent_binary" : "backend")): the agent \(backend) (\(binary ?? dialect.program)) is not installed"
                    )
                }
            }
            for backend in (fields.fallbackBackends ?? []).map(\.rawValue)
            where agents.first(where: { $0.backend == backend })?.path == nil {
                problems.append("\(source("fallback_backends")): the fallback agent \(backend) is not installed")
            }
            // A planner or critic that is a CLI needs that CLI.
            let roles: [(role: String, api: String?, binary: String?)] = [
                ("planner", configuration.planner["api"], configuration.planner["binary"]),
                ("critic", fields.critic?.rawValue, fields.criticBinary),
            ]
            for (role, api, binary) in roles {
                guard let api, let tool = CLILanguageModel.Tool(rawValue: api) else { continue }
                let installed =
                    binary.map { FileManager.default.isExecutableFile(atPath: $0) }
                    ?? (agents.first { $0.backend == tool.rawValue }?.path != nil)
                if !installed {
                    problems.append(
                        "the \(role) is the \(tool.rawValue) CLI, and \(binary ?? tool.rawValue) is not installed"
                    )
                }
            }
            // A file holding keys must be its owner's alone.
            if !configuration.keys.isEmpty, let user = Configuration.userFile(composition.environment),
                let permissions = (try? FileManager.default.attributesOfItem(atPath: user))?[.posixPermissions] as? Int,
                permissions & 0o077 != 0
            {
                problems.append("\(user) holds API keys and others can read it; run `chmod 600 \(user)`")
            }
            return problems
        }

        private func probe(
            _ program: String,
            backend: String,
            environment: [String: String],
            composition: Composition
        ) async -> Report.Tool {
            guard
                let path = try? ExecutableLocator.locate(
                    program,
                    environment: environment,
                    workingDirectory: FileManager.default.currentDirectoryPath
                )
            else { return Report.Tool(name: program, backend: backend, path: nil, version: nil) }
            let result = try? await composition.processes.run(
                ProcessRequest(
                    executable: path,
                    arguments: ["--version"],
                    workingDirectory: FileManager.default.currentDirectoryPath,
                    environment: environment,
                    timeout: .seconds(10)
                )
            )
            let version = result.flatMap { result -> String? in
                guard result.termination.isSuccess else { return nil }
                let line = result.standardOutput.trimmingWhitespace().split(separator: "\n").first.map(String.init)
                return line?.isEmpty == false ? line : nil
            }
            return Report.Tool(name: program, backend: backend, path: path, version: version ?? "unknown version")
        }

        private func render(_ report: Report) -> String {
            var lines: [String] = []
            let gitLine = report.git.path.map { "\($0) (\(report.git.version ?? "?"))" } ?? "MISSING"
            lines.append("git: \(gitLine)")
            lines.append("sandbox: \(report.sandbox)")
            lines.append("")
            lines.append(
                TextTable(
                    headers: ["BACKEND", "PROGRAM", "PATH", "VERSION"],
                    rows: report.agents.map { [$0.backend, $0.name, $0.path ?? "not installed", $0.version ?? ""] }
                ).render()
            )
            lines.append("")
            if let settings = report.configuration {
                lines.append(
                    "Configuration: "
                        + (settings.files.isEmpty
                            ? "no files (flotilla init writes them)" : settings.files.joined(separator: ", "))
                )
                var agent = settings.backend ?? "not set (run needs --backend or --agent-command)"
                if let model = settings.model { agent += ", model \(model)" }
                if !settings.fallbacks.isEmpty { agent += ", then \(settings.fallbacks.joined(separator: ", "))" }
                lines.append("  agent: \(agent)")
                lines.append("  planner: \(settings.planner ?? "none (the fallback planner)")")
                lines.append("  critic: \(settings.critic ?? "none")")
                lines.append("")
            }
            lines.append(
                TextTable(
                    headers: ["KEY", "FOUND", "USED BY"],
                    rows: report.keys.map { [$0.name, $0.source.map { "yes (\($0))" } ?? "no", $0.usedBy] }
                ).render()
            )
            lines.append("")
            lines.append("Daemon: \(report.daemon ?? "not running for this repository")")
            lines.append("Each agent is given the keys its tool reads, and no other process is; --pass-env adds more.")
            for note in report.notes { lines.append("note: \(note)") }
            for problem in report.problems { lines.append("problem: \(problem)") }
            if report.problems.isEmpty { lines.append("No problems found.") }
            return lines.joined(separator: "\n")
        }
    }
}
