import FlotillaAgents
import FlotillaCore
import FlotillaEngine
import FlotillaSystem
import Foundation

/// Builds the agent backend of a mission, checking that what it needs is there (a scenario, a program, a CLI).
package struct AgentFactory {
    package let configuration: Configuration
    package let composition: Composition
    package let root: String

    package func make(_ spec: MissionSpec) throws -> any AgentBackend {
        guard let backend = BackendName(rawValue: spec.backend) else {
            throw FlotillaError.invalid(
                "unknown backend \(spec.backend) (known: \(BackendName.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        return try make(backend, fields: spec.options, checklist: spec.checklist)
    }

    /// The agent of a pipeline step that names its own backend: the mission's settings with the step's backend,
    /// model and command, and no fallbacks (they stand in for the mission's backend, not this one).
    package func make(_ step: PipelineStep, fields: MissionFields, checklist: Checklist) throws -> any AgentBackend {
        var fields = fields
        if let backend = step.backend {
            fields.backend = backend
            fields.model = step.model
            fields.fallbackBackends = nil
        }
        if let command = step.command { fields.agentCommand = command }
        guard let backend = fields.impliedBackend else {
            throw FlotillaError.invalid(
                "pipeline step \(step.id) has no backend: give it one, or the mission --backend"
            )
        }
        return try make(backend, fields: fields, checklist: checklist)
    }

    package func make(
        _ backend: BackendName,
        fields: MissionFields,
        checklist: Checklist
    ) throws
        -> any AgentBackend
    {
        // Read for every backend, even those given none: each key read is removed from every process's output.
        let keys = try configuration.apiKeys(environment: composition.environment, keyFiles: fields.keyFiles ?? [])
        switch backend {
        case .simulate:
            guard let scenarioPath = fields.scenario else {
                throw FlotillaError.invalid("--backend simulate needs --scenario FILE")
            }
            guard let data = FileManager.default.contents(atPath: scenarioPath) else {
                throw FlotillaError.invalid("cannot read the scenario \(scenarioPath): no such file")
            }
            let name = (scenarioPath as NSString).lastPathComponent
            let scenario: Scenario
            do {
                scenario = try Scenario.decode(data, file: name)
            } catch {
                throw FlotillaError.invalid(error.description)
            }
            let unknown = scenario.groups.keys.filter { checklist.group($0) == nil }.sorted()
            if let first = unknown.first {
                throw FlotillaError.invalid(
                    "\(name): groups.\(first): no such group in the checklist (groups: "
                        + "\(checklist.groupIDs.joined(separator: ", ")))"
                )
            }
            return SimulatedAgent(scenario: scenario)
        case .command:
            guard let agentCommand = fields.agentCommand, !agentCommand.trimmingWhitespace().isEmpty else {
                throw FlotillaError.invalid("--backend command needs --agent-command 'CMD'")
            }
            // Attempts run in checkouts of the repository, so a relative program is found from its root.
            try checkProgram(of: agentCommand, passEnv: fields.passEnv ?? [])
            return CommandAgent(
                command: agentCommand,
                runner: composition.processes,
                environment: composition.childEnvironment(passing: fields.passEnv ?? [])
            )
        case .claude, .codex, .gemini, .opencode, .cursor, .aider, .mini:
            let primary = try cliAgent(backend, binary: fields.agentBinary, fields: fields, keys: keys)
            var fallbacks: [any AgentBackend] = []
            for fallback in fields.fallbackBackends ?? [] {
                fallbacks.append(
                    try cliAgent(fallback, binary: nil, fields: fields, keys: keys, flag: "--fallback-backend")
                )
            }
            if fallbacks.isEmpty { return primary }
            return FailoverAgent([primary] + fallbacks, backoff: fields.rateLimitBackoff)
        }
    }

    /// An agent CLI backend, checked to be installed.
    private func cliAgent(
        _ backend: BackendName,
        binary: String?,
        fields: MissionFields,
        keys: APIKeys,
        flag: String = "--backend"
    ) throws -> CLIAgent {
        guard let dialect = backend.dialect else {
            throw FlotillaError.invalid("\(flag) \(backend.rawValue) is not an agent CLI")
        }
        let environment = composition.childEnvironment(passing: fields.passEnv ?? [])
        let program = binary ?? dialect.program
        do {
            _ = try ExecutableLocator.locate(program, environment: environment, workingDirectory: root)
        } catch {
            throw FlotillaError.invalid(
                "\(flag) \(dialect.name): \(program) is not installed or not on PATH (\(error)); install it"
                    + (flag == "--backend" ? ", or pass --agent-binary PATH" : "")
            )
        }
        return CLIAgent(
            dialect: dialect,
            options: AgentCLIOptions(binary: binary, fields: fields),
            runner: composition.processes,
            environment: environment,
            keys: keys,
            pricing: configuration.pricing
        )
    }

    /// Preflight for `--agent-command`: its program must exist, or every attempt would fail the same way.
    private func checkProgram(of command: String, passEnv: [String]) throws {
        let shellWords: Set<String> = [
            "cd", "exec", "export", "set", "eval", "source", ".", "command", "builtin", "test", "[",
        ]
        guard let program = ShellWords.split(command).first, !program.contains("="), !program.contains("$"),
            !shellWords.contains(program)
        else { return }
        do {
            _ = try ExecutableLocator.locate(
                program,
                environment: composition.childEnvironment(passing: passEnv),
                workingDirectory: root
            )
        } catch {
            throw FlotillaError.invalid("--agent-command: \(error)")
        }
    }
}

extension BackendName {
    /// The dialect of an agent CLI backend.
    package var dialect: (any AgentCLIDialect)? {
        switch self {
        case .simulate, .command: nil
        case .claude: ClaudeCode()
        case .codex: Codex()
        case .gemini: GeminiCLI()
        case .opencode: OpenCode()
        case .cursor: CursorAgent()
        case .aider: Aider()
        case .mini: MiniSWEAgent()
        }
    }
}
