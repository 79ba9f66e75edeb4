import ArgumentParser
import FlotillaAPI
import FlotillaAgents
import FlotillaCore
import FlotillaEngine
import FlotillaSystem
import Foundation

extension Flotilla {
    struct MissionRun: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a mission: agents work the checklist until every group is verified and landed.",
            discussion: """
                Reads the checklist (--acceptance, default ACCEPTANCE.md at the repository root), creates the \
                target branch at the base commit, and works until done or a breaker trips. Limits take -1 for \
                uncapped. On a terminal a live view shows every group and agent; otherwise each event is one line.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "The goal, in words (default: the checklist's `# Title`).")
        var goal: String?

        @Option(help: "The acceptance checklist, Markdown or JSON (default: ACCEPTANCE.md at the repository root).")
        var acceptance: String?

        @Option(help: "The verify command: exit 0 passes. It runs with FLOTILLA_GROUPS set to the groups to check.")
        var verify: String?

        @Option(help: "Agents working in parallel.")
        var agents: Int = 2

        @Option(
            help: """
                Agent backend: simulate (scripted, offline), command (any executable), or an agent CLI: claude, codex, \
                gemini, opencode, cursor.
                """
        )
        var backend: BackendName?

        @Option(help: "For agent CLI backends: the executable (default: the tool's name on PATH).")
        var agentBinary: String?

        @Option(help: "For claude: the most turns one session may take.")
        var maxTurns: Int?

        @Option(
            help: """
                Seconds every agent waits after one hits a rate limit, when the agent does not say how long; doubles \
                while limits repeat. Such attempts do not count against the group.
                """
        )
        var rateLimitBackoff: Double = 30

        @Option(help: "The longest wait after a rate limit, in seconds.")
        var rateLimitMaxWait: Double = 900

        @Option(help: "Critic API (explains failed gates in the next prompt): openai or anthropic.")
        var critic: LanguageModelAPI?

        @Option(help: "The critic's API root, e.g. http://127.0.0.1:8000/v1 (implies --critic openai).")
        var criticURL: String?

        @Option(help: "The critic's model.")
        var criticModel: String?

        @Option(help: "For --backend command: the command line each attempt runs (prompt on stdin).")
        var agentCommand: String?

        @Option(help: "For --backend simulate: the scenario file (JSON).")
        var scenario: String?

        @Option(help: "Model name handed to the agent backend.")
        var model: String?

        // Unconditional parsing lets "-1" (uncapped) follow the flag; otherwise it reads as an unknown flag.
        @Option(parsing: .unconditional, help: "Stop before spending more than this many US dollars (-1: uncapped).")
        var maxCost: Double = 10

        @Option(parsing: .unconditional, help: "Stop after this many seconds of running time (-1: uncapped).")
        var timeout: Double = 14_400

        @Option(
            parsing: .unconditional,
            help: "Stop before starting more than this many attempts in all (-1: uncapped)."
        )
        var maxAttempts: Int = -1

        @Option(help: "Seconds one agent session may run before it is stopped.")
        var attemptTimeout: Double = 1800

        @Option(help: "Seconds one run of the verify command may take.")
        var verifyTimeout: Double = 1800

        @Option(
            help: """
                Verified attempts waiting to land that share one regression verify (a failing batch is split until \
                the culprit is alone); 1 lands every group as its own commit.
                """
        )
        var mergeBatch: Int = 8

        @Option(help: "Failed attempts without progress before a group escalates (strategy hint, then blocked).")
        var stallThreshold: Int = 3

        @Option(help: "Branch where verified work lands (default: flotilla/<mission-id>).")
        var targetBranch: String?

        @Option(help: "The revision agents start from (default: HEAD).")
        var base: String?

        @Option(help: "A path or glob agents may not change (repeatable); the gate's scripts are always protected.")
        var protect: [String] = []

        @Option(help: "An environment variable to pass to agents and the verify command (repeatable).")
        var passEnv: [String] = []

        @Flag(help: "Keep each attempt's branch after the mission, for inspection.")
        var keepBranches = false

        @Flag(name: [.customShort("y"), .long], help: "Do not ask for confirmation.")
        var yes = false

        func validate() throws {
            guard agents >= 1 else { throw ValidationError("--agents must be at least 1") }
            guard maxCost == -1 || maxCost >= 0 else { throw ValidationError("--max-cost must be -1 or at least 0") }
            guard timeout == -1 || timeout > 0 else { throw ValidationError("--timeout must be -1 or more than 0") }
            guard maxAttempts == -1 || maxAttempts >= 1 else {
                throw ValidationError("--max-attempts must be -1 or at least 1")
            }
            guard attemptTimeout > 0 else { throw ValidationError("--attempt-timeout must be more than 0") }
            guard verifyTimeout > 0 else { throw ValidationError("--verify-timeout must be more than 0") }
            guard stallThreshold >= 1 else { throw ValidationError("--stall-threshold must be at least 1") }
            guard mergeBatch >= 1 else { throw ValidationError("--merge-batch must be at least 1") }
            guard rateLimitBackoff >= 0 else { throw ValidationError("--rate-limit-backoff must be at least 0") }
            guard rateLimitMaxWait >= 0 else { throw ValidationError("--rate-limit-max-wait must be at least 0") }
            if let maxTurns, maxTurns < 1 { throw ValidationError("--max-turns must be at least 1") }
        }

        @Flag(help: "Start the mission in the background and print its id; follow it with `flotilla attach ID`.")
        var detach = false

        func run() async throws {
            let composition = Composition()
            let root = try await composition.repositoryRoot(global.repo)
            var wire = CreateMissionRequest()
            wire.goal = goal
            wire.acceptancePath = acceptance.map { absolute($0) }
            wire.verify = verify
            wire.agents = agents
            wire.backend = backend?.rawValue
            wire.agentCommand = agentCommand
            wire.agentBinary = agentBinary.map { absolute($0) }
            wire.maxTurns = maxTurns
            wire.rateLimitBackoffSeconds = rateLimitBackoff
            wire.rateLimitMaxWaitSeconds = rateLimitMaxWait
            wire.critic =
                (critic ?? composition.environment["FLOTILLA_CRITIC"].flatMap(LanguageModelAPI.init(rawValue:)))?
                .rawValue
            wire.criticURL = criticURL ?? composition.environment["FLOTILLA_CRITIC_URL"]
            wire.criticModel = criticModel ?? composition.environment["FLOTILLA_CRITIC_MODEL"]
            wire.scenario = scenario.map { absolute($0) }
            wire.model = model
            wire.maxCostUSD = maxCost
            wire.timeoutSeconds = timeout
            wire.maxAttempts = maxAttempts
            wire.attemptTimeoutSeconds = attemptTimeout
            wire.verifyTimeoutSeconds = verifyTimeout
            wire.stallThreshold = stallThreshold
            wire.mergeBatch = mergeBatch
            wire.targetBranch = targetBranch
            wire.base = base
            wire.protect = protect
            wire.passEnvironment = passEnv
            let request = try MissionRequestBuilder(composition: composition, root: root).build(
                wire,
                keepAttemptBranches: keepBranches
            )
            let launch = MissionLaunch(composition: composition, root: root, output: global.output)
            let spec = try await launch.create(request)
            if detach {
                let pid = try launch.runInBackground(spec.id)
                switch global.output {
                case .json: Console.json(["id": spec.id.rawValue, "pid": String(pid)])
                case .table:
                    Console.out("\(spec.id)")
                    Console.err(
                        "running in the background (process \(pid)); follow it with `flotilla attach \(spec.id)`"
                    )
                }
                return
            }
            let code = try await launch.runForeground(spec.id)
            if code != 0 { throw MissionExit(code: code) }
        }

        private func absolute(_ path: String) -> String {
            URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
                .standardizedFileURL.path
        }
    }
}

enum BackendName: String, ExpressibleByArgument, CaseIterable, Sendable {
    case simulate
    case command
    case claude
    case codex
    case gemini
    case opencode
    case cursor

    /// The dialect of an agent CLI backend.
    var dialect: (any AgentCLIDialect)? {
        switch self {
        case .simulate, .command: nil
        case .claude: ClaudeCode()
        case .codex: Codex()
        case .gemini: GeminiCLI()
        case .opencode: OpenCode()
        case .cursor: CursorAgent()
        }
    }
}

/// Preflight for `--agent-command`: its program must exist, or every attempt would fail the same way.
private func checkProgram(of command: String, in root: String, composition: Composition, passEnv: [String]) throws {
    let shellWords: Set<String> = [
        "cd", "exec", "export", "set", "eval", "source", ".", "command", "builtin", "test", "[",
    ]
    guard let program = MissionPreparation.words(command).first, !program.contains("="), !program.contains("$"),
        !shellWords.contains(program)
    else { return }
    do {
        _ = try ExecutableLocator.locate(
            program,
            environment: composition.childEnvironment(passing: passEnv),
            workingDirectory: root
        )
    } catch {
        throw InputError("--agent-command: \(error)")
    }
}

/// Turns the wire form of a mission request (flags or an API body) into a checked ``MissionRequest``.
///
/// Relative paths are taken from the repository root; the agent is built (and so checked) before anything is
/// written.
struct MissionRequestBuilder {
    let composition: Composition
    let root: String

    func build(_ wire: CreateMissionRequest, keepAttemptBranches: Bool = false) throws -> MissionRequest {
        let checklist: Checklist
        let checklistPath: String
        if let text = wire.acceptance {
            checklistPath = "acceptance"
            checklist = try ChecklistFile.parse(Data(text.utf8), name: checklistPath, json: text.first == "{")
        } else {
            checklistPath = wire.acceptancePath.map(resolve) ?? resolve("ACCEPTANCE.md")
            checklist = try ChecklistFile.read(checklistPath, given: wire.acceptancePath != nil)
        }
        let backendName =
            wire.backend.flatMap(BackendName.init(rawValue:))
            ?? (wire.agentCommand != nil ? .command : wire.scenario != nil ? .simulate : nil)
        guard let backendName else {
            throw InputError("choose an agent: --backend simulate --scenario FILE, or --agent-command 'CMD'")
        }
        let options = MissionRunOptions(
            agentCommand: wire.agentCommand,
            scenarioPath: wire.scenario.map(resolve),
            passEnvironment: wire.passEnvironment,
            verifyTimeoutSeconds: wire.verifyTimeoutSeconds,
            mergeBatch: wire.mergeBatch,
            keepAttemptBranches: keepAttemptBranches,
            agentBinary: wire.agentBinary.map(resolve),
            maxTurns: wire.maxTurns,
            rateLimitBackoffSeconds: wire.rateLimitBackoffSeconds,
            rateLimitMaxWaitSeconds: wire.rateLimitMaxWaitSeconds,
            criticAPI: wire.critic,
            criticURL: wire.criticURL,
            criticModel: wire.criticModel
        )
        // The critic is built (and so checked) before anything is written too.
        _ = try LanguageModels.critic(options, environment: composition.environment)
        _ = try AgentFactory.make(
            backend: backendName.rawValue,
            options: options,
            checklist: checklist,
            root: root,
            composition: composition
        )
        return MissionRequest(
            goal: wire.goal,
            checklist: checklist,
            checklistPath: checklistPath,
            verifyCommand: wire.verify,
            agents: wire.agents,
            backend: backendName.rawValue,
            model: wire.model,
            limits: MissionLimits(
                maxCostUSD: wire.maxCostUSD < 0 ? nil : wire.maxCostUSD,
                maxWallClock: wire.timeoutSeconds < 0 ? nil : .milliseconds(Int64(wire.timeoutSeconds * 1000)),
                maxAttempts: wire.maxAttempts < 0 ? nil : wire.maxAttempts,
                attemptTimeout: .milliseconds(Int64(wire.attemptTimeoutSeconds * 1000)),
                stallThreshold: wire.stallThreshold
            ),
            targetBranch: wire.targetBranch,
            base: wire.base,
            protect: wire.protect,
            options: options
        )
    }

    private func resolve(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: root, isDirectory: true)).standardizedFileURL.path
    }
}

/// Reads a checklist file in either form.
enum ChecklistFile {
    static func read(_ path: String, given: Bool) throws -> Checklist {
        guard let data = FileManager.default.contents(atPath: path) else {
            if given { throw InputError("cannot read the checklist \(path): no such file") }
            throw InputError(
                "no checklist: pass --acceptance FILE, or write ACCEPTANCE.md at the repository root "
                    + "(`## Group` headings with `- [ ] criterion` bullets)"
            )
        }
        return try parse(data, name: (path as NSString).lastPathComponent, json: path.hasSuffix(".json"))
    }

    static func parse(_ data: Data, name: String, json: Bool) throws -> Checklist {
        do {
            if json { return try ChecklistJSON.decode(data, file: name) }
            return try ChecklistParser.parse(String(decoding: data, as: UTF8.self), file: name)
        } catch {
            throw InputError(error.description)
        }
    }
}

/// Builds the agent backend of a mission.
enum AgentFactory {
    static func make(spec: MissionSpec, root: String, composition: Composition) throws -> any AgentBackend {
        try make(
            backend: spec.backend,
            options: spec.options,
            checklist: spec.checklist,
            root: root,
            composition: composition
        )
    }

    static func make(
        backend: String,
        options: MissionRunOptions,
        checklist: Checklist,
        root: String,
        composition: Composition
    ) throws -> any AgentBackend {
        switch BackendName(rawValue: backend) {
        case .simulate:
            guard let scenarioPath = options.scenarioPath else {
                throw InputError("--backend simulate needs --scenario FILE")
            }
            guard let data = FileManager.default.contents(atPath: scenarioPath) else {
                throw InputError("cannot read the scenario \(scenarioPath): no such file")
            }
            let scenario: Scenario
            do {
                scenario = try Scenario.decode(data, file: (scenarioPath as NSString).lastPathComponent)
            } catch {
                throw InputError(error.description)
            }
            let unknown = scenario.groups.keys.filter { checklist.group($0) == nil }.sorted()
            if !unknown.isEmpty {
                throw InputError(
                    "\((scenarioPath as NSString).lastPathComponent): groups.\(unknown[0]): no such group in the "
                        + "checklist (groups: \(checklist.groupIDs.joined(separator: ", ")))"
                )
            }
            return SimulatedAgent(scenario: scenario)
        case .command:
            guard let agentCommand = options.agentCommand, !agentCommand.trimmingWhitespace().isEmpty else {
                throw InputError("--backend command needs --agent-command 'CMD'")
            }
            // Attempts run in worktrees of the repository, so a relative program is found from its root.
            try checkProgram(of: agentCommand, in: root, composition: composition, passEnv: options.passEnvironment)
            return CommandAgent(
                command: agentCommand,
                runner: composition.processes,
                environment: composition.childEnvironment(passing: options.passEnvironment)
            )
        case .claude?, .codex?, .gemini?, .opencode?, .cursor?:
            guard let dialect = BackendName(rawValue: backend)?.dialect else { fallthrough }
            let environment = composition.childEnvironment(passing: options.passEnvironment)
            let program = options.agentBinary ?? dialect.program
            do {
                _ = try ExecutableLocator.locate(program, environment: environment, workingDirectory: root)
            } catch {
                throw InputError(
                    "--backend \(backend): \(program) is not installed or not on PATH (\(error)); install it, or "
                        + "pass --agent-binary PATH"
                )
            }
            return CLIAgent(
                dialect: dialect,
                options: AgentCLIOptions(binary: options.agentBinary, maxTurns: options.maxTurns),
                runner: composition.processes,
                environment: environment
            )
        case .none:
            throw InputError(
                "unknown backend \(backend) (known: \(BackendName.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
    }
}
