import ArgumentParser
import FlotillaAPI
import FlotillaAgents
import FlotillaCore
import FlotillaEngine
import FlotillaSystem
import Foundation

extension Flotilla {
    struct Doctor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "doctor",
            abstract: "Check what Flotilla can use here: git, the agent CLIs and their versions, API keys, the daemon.",
            discussion:
                "Keys are looked up in the environment and reported as found or missing; their values are never printed."
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
                var usedBy: String

                enum CodingKeys: String, CodingKey {
                    case name, found
                    case usedBy = "used_by"
                }
            }

            var git: Tool
            var agents: [Tool]
            var keys: [Key]
            var daemon: String?
            var problems: [String]
        }

        static let keys: [(name: String, usedBy: String)] = [
            ("ANTHROPIC_API_KEY", "claude"), ("CLAUDE_CODE_OAUTH_TOKEN", "claude"),
            ("OPENAI_API_KEY", "codex, opencode"),
            ("CODEX_API_KEY", "codex"), ("GEMINI_API_KEY", "gemini"), ("GOOGLE_API_KEY", "gemini"),
            ("CURSOR_API_KEY", "cursor"),
        ]

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
            if agents.allSatisfy({ $0.path == nil }) {
                problems.append("no agent CLI found on PATH; `--backend command --agent-command CMD` still works")
            }
            var daemon: String?
            if let root = try? await composition.repositoryRoot(global.repo),
                let info = DaemonInfo.read(stateDirectory: MissionLayout(repository: root).stateDirectory),
                composition.processTable.isRunning(info.process)
            {
                daemon = "serving \(root) on http://\(info.urlHost):\(info.port) (process \(info.process.pid))"
            }
            let report = Report(
                git: git,
                agents: agents,
                keys: Self.keys.map { key in
                    Report.Key(
                        name: key.name,
                        found: !(composition.environment[key.name] ?? "").isEmpty,
                        usedBy: key.usedBy
                    )
                },
                daemon: daemon,
                problems: problems
            )
            switch global.output {
            case .json: Console.json(report)
            case .table: Console.out(render(report))
            }
            if git.path == nil { throw MissionExit(code: 1) }
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
            lines.append("")
            lines.append(
                TextTable(
                    headers: ["BACKEND", "PROGRAM", "PATH", "VERSION"],
                    rows: report.agents.map { [$0.backend, $0.name, $0.path ?? "not installed", $0.version ?? ""] }
                ).render()
            )
            lines.append("")
            lines.append(
                TextTable(
                    headers: ["KEY", "FOUND", "USED BY"],
                    rows: report.keys.map { [$0.name, $0.found ? "yes (environment)" : "no", $0.usedBy] }
                ).render()
            )
            lines.append("")
            lines.append("Daemon: \(report.daemon ?? "not running for this repository")")
            lines.append(
                "Keys reach an agent only when passed with --pass-env NAME (or configured for the daemon's environment)."
            )
            for problem in report.problems { lines.append("problem: \(problem)") }
            return lines.joined(separator: "\n")
        }
    }
}
