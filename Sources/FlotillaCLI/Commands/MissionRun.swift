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

        @Option(help: "Agents working in parallel (default 2).")
        var agents: Int?

        @Option(
            help: """
                Agent backend: simulate (scripted, offline), command (any executable), or an agent CLI: claude, codex, \
                gemini, opencode, cursor.
                """
        )
        var backend: BackendName?

        @Option(
            help: """
                An agent CLI that takes over while the backend is rate limited (repeatable, tried in order); its \
                program is looked up on PATH.
                """
        )
        var fallbackBackend: [BackendName] = []

        @Option(help: "For agent CLI backends: the executable (default: the tool's name on PATH).")
        var agentBinary: String?

        @Option(help: "For aider and mini: the OpenAI-compatible API root their model is served from.")
        var agentBaseURL: String?

        @Option(help: "For claude: the most turns one session may take.")
        var maxTurns: Int?

        @Option(
            help: """
                Seconds every agent waits after one hits a rate limit, when the agent does not say how long; doubles \
                while limits repeat. Such attempts do not count against the group.
                """
        )
        var rateLimitBackoff: Double?

        @Option(help: "The longest wait after a rate limit, in seconds (default 900).")
        var rateLimitMaxWait: Double?

        @Option(
            help: """
                Critic (explains failed gates in the next prompt): openai or anthropic (HTTP APIs), or claude or \
                codex (their CLIs' structured modes).
                """
        )
        var critic: LanguageModelAPI?

        @Option(help: "For --critic claude or codex: the executable (default: its name on PATH).")
        var criticBinary: String?

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
        @Option(
            parsing: .unconditional,
            help: "Stop before spending more than this many US dollars (-1: uncapped; default 10)."
        )
        var maxCost: Double?

        @Option(
            parsing: .unconditional,
            help: "Stop after this many seconds of running time (-1: uncapped; default 4 h)."
        )
        var timeout: Double?

        @Option(
            parsing: .unconditional,
            help: "Stop before starting more than this many attempts in all (-1: uncapped)."
        )
        var maxAttempts: Int?

        @Option(help: "Seconds one agent session may run before it is stopped (default 1800).")
        var attemptTimeout: Double?

        @Option(help: "Seconds one run of the verify command may take (default 1800).")
        var verifyTimeout: Double?

        @Option(
            help: """
                Verified attempts waiting to land that share one regression verify (a failing batch is split until \
                the culprit is alone); 1 lands every group as its own commit.
                """
        )
        var mergeBatch: Int?

        @Option(
            help: "Failed attempts without progress before a group escalates (strategy hint, then blocked; default 3)."
        )
        var stallThreshold: Int?

        @Option(help: "Branch where verified work lands (default: flotilla/<mission-id>).")
        var targetBranch: String?

        @Option(help: "The revision agents start from (default: HEAD).")
        var base: String?

        @Option(help: "A path or glob agents may not change (repeatable); the gate's scripts are always protected.")
        var protect: [String] = []

        @Option(help: "An environment variable to pass to agents and the verify command (repeatable).")
        var passEnv: [String] = []

        @Option(
            help: """
                A file holding an API key, as PROVIDER=PATH (repeatable; anthropic, openai, codex, gemini, google, \
                cursor, claude_oauth_token). It wins over the environment and config.toml, is read at each start, \
                and only the tool that reads that key is given it.
                """
        )
        var keyFile: [String] = []

        @Flag(help: "Keep each attempt's branch after the mission, for inspection.")
        var keepBranches = false

        @Flag(
            help: """
                Let attempts edit existing tests. By default an edit to a test file of the start commit (tests/, \
                test_*.py, *.test.ts, *_test.go…) is taken back before the gate; a group's `Allow: PATTERN` line \
                opens only its own.
                """
        )
        var allowTestEdits = false

        @Option(
            help: """
                Where agent sessions and verify runs execute: bwrap (bubblewrap: a read-only system, the checkout \
                the only writable project path, a private home and /tmp, no view of .flotilla/ or write access to \
                .git, every process ended with the session), none (as you, with orphans ended), or auto (bwrap when \
                it works here, else none, said once; the default).
                """
        )
        var sandbox: SandboxMode?

        @Option(
            help: """
                What agent sessions may reach: open, allowlist (only the backend's model API, --agent-base-url and \
                --allow-host, through Flotilla's proxy), or none. Default: allowlist for the agent CLIs, open for \
                --backend command (Flotilla cannot know what a custom command needs). Needs the bwrap sandbox.
                """
        )
        var network: NetworkAccess?

        @Option(help: "A host the allowlist lets through: host, host:port or *.domain (repeatable).")
        var allowHost: [String] = []

        @Option(
            help: """
                What the verify command may reach: none (default; it runs code agents wrote), open, or allowlist \
                (the --allow-host hosts). Use open if it downloads dependencies.
                """
        )
        var verifyNetwork: NetworkAccess?

        @Option(help: "A path sandboxed processes may read, though it is under your home or /tmp (repeatable).")
        var sandboxRead: [String] = []

        @Option(help: "A path sandboxed processes may write, besides their checkout (repeatable).")
        var sandboxWrite: [String] = []

        @Flag(name: [.customShort("y"), .long], help: "Do not ask for confirmation.")
        var yes = false

        @Option(
            help: "With --goal and no checklist: the planner (openai, anthropic, claude, codex; see `flotilla plan`)."
        )
        var planner: LanguageModelAPI?

        @Option(help: "With --goal and no checklist: the planner's API root.")
        var plannerURL: String?

        @Option(help: "With --goal and no checklist: the planner's model.")
        var plannerModel: String?

        @Option(help: "With --goal and no checklist: for --planner claude or codex, the executable.")
        var plannerBinary: String?

        func validate() throws {
            if let agents, agents < 1 { throw ValidationError("--agents must be at least 1") }
            if let maxCost, maxCost != -1 && maxCost < 0 {
                throw ValidationError("--max-cost must be -1 or at least 0")
            }
            if let timeout, timeout != -1 && timeout <= 0 {
                throw ValidationError("--timeout must be -1 or more than 0")
            }
            if let maxAttempts, maxAttempts != -1 && maxAttempts < 1 {
                throw ValidationError("--max-attempts must be -1 or at least 1")
            }
            if let attemptTimeout, attemptTimeout <= 0 {
                throw ValidationError("--attempt-timeout must be more than 0")
            }
            if let verifyTimeout, verifyTimeout <= 0 { throw ValidationError("--verify-timeout must be more than 0") }
            if let stallThreshold, stallThreshold < 1 { throw ValidationError("--stall-threshold must be at least 1") }
            if let mergeBatch, mergeBatch < 1 { throw ValidationError("--merge-batch must be at least 1") }
            if let rateLimitBackoff, rateLimitBackoff < 0 {
                throw ValidationError("--rate-limit-backoff must be at least 0")
            }
            if let rateLimitMaxWait, rateLimitMaxWait < 0 {
                throw ValidationError("--rate-limit-max-wait must be at least 0")
            }
            if let maxTurns, maxTurns < 1 { throw ValidationError("--max-turns must be at least 1") }
        }

        @Flag(help: "Start the mission in the background and print its id; follow it with `flotilla attach ID`.")
        var detach = false

        func run() async throws {
            let composition = Composition()
            let root = try await composition.repositoryRoot(global.repo)
            let configuration = try Configuration.load(root: root, environment: composition.environment)
            var wire = try missionFields(configuration: configuration, environment: composition.environment)
            var planning: [ModelCall] = []
            // A goal and no checklist: plan one first (it lives in the mission's folder, the repository is untouched).
            if let goal, wire.acceptancePath == nil,
                !FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent("ACCEPTANCE.md"))
            {
                let session = try await PlanningSession(
                    composition: composition,
                    repo: root,
                    planner: LanguageModelSettings(
                        api: planner,
                        url: plannerURL,
                        model: plannerModel,
                        binary: plannerBinary,
                        keyFiles: keyFile
                    ),
                    repairs: 2
                )
                let planned = try await session.plan(goal: goal)
                planning = planned.calls
                var checklist = planned.checklist
                if !yes {
                    guard let reviewed = try session.review(checklist, question: "Run the mission with this checklist?")
                    else { throw InputError("no mission started: the planned checklist was declined") }
                    checklist = reviewed
                }
                wire.acceptance = ChecklistRenderer.render(checklist)
            }
            let request = try MissionRequestBuilder(composition: composition, root: root, configuration: configuration)
                .build(
                    wire,
                    keepAttemptBranches: keepBranches
                )
            let launch = MissionLaunch(composition: composition, root: root, output: global.output)
            let spec = try await launch.create(request, planning: planning)
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

        /// The mission's fields: the configuration files', then the environment's, then the flags given.
        private func missionFields(
            configuration: Configuration,
            environment: [String: String]
        ) throws
            -> CreateMissionRequest
        {
            var fields: [String: JSONValue] = [:]
            var sources: [String: String] = [:]
            for (key, entry) in configuration.run {
                fields[key] = entry.value
                sources[key] = entry.source
            }
            var given: [String: JSONValue?] = [
                "goal": goal.map(JSONValue.string), "acceptance_path": acceptance.map { .string(absolute($0)) },
                "verify": verify.map(JSONValue.string), "agents": agents.map { .number(Double($0)) },
                "backend": backend.map { .string($0.rawValue) }, "agent_command": agentCommand.map(JSONValue.string),
                "agent_binary": agentBinary.map { .string(absolute($0)) },
                "agent_base_url": agentBaseURL.map(JSONValue.string),
                "max_turns": maxTurns.map { .number(Double($0)) },
                "scenario": scenario.map { .string(absolute($0)) }, "model": model.map(JSONValue.string),
                "max_cost_usd": maxCost.map(JSONValue.number), "timeout_seconds": timeout.map(JSONValue.number),
                "max_attempts": maxAttempts.map { .number(Double($0)) },
                "attempt_timeout_seconds": attemptTimeout.map(JSONValue.number),
                "verify_timeout_seconds": verifyTimeout.map(JSONValue.number),
                "stall_threshold": stallThreshold.map { .number(Double($0)) },
                "merge_batch": mergeBatch.map { .number(Double($0)) },
                "target_branch": targetBranch.map(JSONValue.string), "base": base.map(JSONValue.string),
                "rate_limit_backoff_seconds": rateLimitBackoff.map(JSONValue.number),
                "rate_limit_max_wait_seconds": rateLimitMaxWait.map(JSONValue.number),
                "critic": (critic ?? environment["FLOTILLA_CRITIC"].flatMap(LanguageModelAPI.init(rawValue:)))
                    .map { .string($0.rawValue) },
                "critic_url": (criticURL ?? environment["FLOTILLA_CRITIC_URL"]).map(JSONValue.string),
                "critic_model": (criticModel ?? environment["FLOTILLA_CRITIC_MODEL"]).map(JSONValue.string),
                "critic_binary": criticBinary.map { .string(absolute($0)) },
                "key_files": keyFile.isEmpty
                    ? nil
                    : .array(
                        try keyFile.map { entry in
                            let (_, path) = try Configuration.keyFile(entry)
                            return .string(entry.prefix { $0 != "=" } + "=" + absolute(path))
                        }
                    ),
                "fallback_backends": fallbackBackend.isEmpty
                    ? nil : .array(fallbackBackend.map { .string($0.rawValue) }),
                "allow_test_edits": allowTestEdits ? .bool(true) : nil,
                "sandbox": sandbox.map { .string($0.rawValue) }, "network": network.map { .string($0.rawValue) },
                "verify_network": verifyNetwork.map { .string($0.rawValue) },
            ]
            // Lists add up: the project's protected paths stay protected whatever the flags say.
            let lists = [
                ("protect", protect), ("pass_env", passEnv), ("allow_hosts", allowHost),
                ("sandbox_read", sandboxRead.map(absolute)), ("sandbox_write", sandboxWrite.map(absolute)),
            ]
            for (key, extra) in lists where !extra.isEmpty {
                var items: [JSONValue] = []
                if case .array(let configured)? = fields[key] { items = configured }
                given[key] = .array(items + extra.map(JSONValue.string))
            }
            for case (let key, let value?) in given {
                fields[key] = value
                sources[key] = nil
            }
            do {
                let data = try JSONEncoder().encode(JSONValue.object(fields))
                return try CreateMissionRequest.decode(data)
            } catch let error as RequestValidationError {
                let problem = error.problems[0]
                let field = String(problem.field.prefix { $0 != "[" })
                if let source = sources[field] { throw InputError("\(source): \(problem.field) \(problem.message)") }
                throw InputError("\(Self.flag(for: field)) \(problem.message)")
            }
        }

        /// The flag that sets a mission field.
        private static func flag(for field: String) -> String {
            let names = [
                "max_cost_usd": "--max-cost", "timeout_seconds": "--timeout",
                "attempt_timeout_seconds": "--attempt-timeout", "verify_timeout_seconds": "--verify-timeout",
                "rate_limit_backoff_seconds": "--rate-limit-backoff",
                "rate_limit_max_wait_seconds": "--rate-limit-max-wait",
                "acceptance_path": "--acceptance", "fallback_backends": "--fallback-backend", "key_files": "--key-file",
                "allow_hosts": "--allow-host",
            ]
            return names[field] ?? "--" + field.replacingOccurrences(of: "_", with: "-")
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
    case aider
    case mini

    /// The dialect of an agent CLI backend.
    var dialect: (any AgentCLIDialect)? {
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
    /// The repository's configuration files, read once for everything the request builds.
    let configuration: Configuration

    init(composition: Composition, root: String, configuration: Configuration) {
        self.composition = composition
        self.root = root
        self.configuration = configuration
    }

    /// Reads the repository's configuration files itself.
    init(composition: Composition, root: String) throws {
        self.init(
            composition: composition,
            root: root,
            configuration: try Configuration.load(root: root, environment: composition.environment)
        )
    }

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
            criticModel: wire.criticModel,
            agentBaseURL: wire.agentBaseURL,
            fallbackBackends: wire.fallbackBackends,
            criticBinary: wire.criticBinary.map(resolve),
            keyFiles: wire.keyFiles,
            allowTestEdits: wire.allowTestEdits,
            sandbox: wire.sandbox.flatMap(SandboxMode.init(rawValue:)),
            network: wire.network.flatMap(NetworkAccess.init(rawValue:)),
            allowHosts: wire.allowHosts,
            verifyNetwork: wire.verifyNetwork.flatMap(NetworkAccess.init(rawValue:)),
            sandboxRead: wire.sandboxRead,
            sandboxWrite: wire.sandboxWrite
        )
        // The critic is built (and so checked) before anything is written too.
        _ = try LanguageModels.critic(options, configuration: configuration, composition: composition, root: root)
        _ = try AgentFactory.make(
            backend: backendName.rawValue,
            options: options,
            checklist: checklist,
            root: root,
            configuration: configuration,
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
                maxWallClock: wire.timeoutSeconds < 0 ? nil : .seconds(bounded: wire.timeoutSeconds),
                maxAttempts: wire.maxAttempts < 0 ? nil : wire.maxAttempts,
                attemptTimeout: .seconds(bounded: wire.attemptTimeoutSeconds),
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
    static func make(
        spec: MissionSpec,
        root: String,
        configuration: Configuration,
        composition: Composition
    ) throws -> any AgentBackend {
        try make(
            backend: spec.backend,
            options: spec.options,
            checklist: spec.checklist,
            root: root,
            configuration: configuration,
            composition: composition
        )
    }

    static func make(
        backend: String,
        options: MissionRunOptions,
        checklist: Checklist,
        root: String,
        configuration: Configuration,
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
        case .claude?, .codex?, .gemini?, .opencode?, .cursor?, .aider?, .mini?:
            guard let dialect = BackendName(rawValue: backend)?.dialect else { fallthrough }
            let keys = try configuration.apiKeys(environment: composition.environment, keyFiles: options.keyFiles ?? [])
            let primary = try cliAgent(
                dialect,
                binary: options.agentBinary,
                options: options,
                keys: keys,
                pricing: configuration.pricing,
                root: root,
                composition: composition
            )
            let fallbacks = try (options.fallbackBackends ?? []).map { name -> any AgentBackend in
                guard let dialect = BackendName(rawValue: name)?.dialect else {
                    throw InputError("--fallback-backend \(name) is not an agent CLI")
                }
                return try cliAgent(
                    dialect,
                    binary: nil,
                    options: options,
                    keys: keys,
                    pricing: configuration.pricing,
                    root: root,
                    composition: composition,
                    flag: "--fallback-backend"
                )
            }
            if fallbacks.isEmpty { return primary }
            return FailoverAgent([primary] + fallbacks, backoff: options.rateLimitBackoff)
        case .none:
            throw InputError(
                "unknown backend \(backend) (known: \(BackendName.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
    }

    /// An agent CLI backend, checked to be installed.
    private static func cliAgent(
        _ dialect: any AgentCLIDialect,
        binary: String?,
        options: MissionRunOptions,
        keys: APIKeys,
        pricing: PricingTable,
        root: String,
        composition: Composition,
        flag: String = "--backend"
    ) throws -> CLIAgent {
        let environment = composition.childEnvironment(passing: options.passEnvironment)
        let program = binary ?? dialect.program
        do {
            _ = try ExecutableLocator.locate(program, environment: environment, workingDirectory: root)
        } catch {
            throw InputError(
                "\(flag) \(dialect.name): \(program) is not installed or not on PATH (\(error)); install it"
                    + (flag == "--backend" ? ", or pass --agent-binary PATH" : "")
            )
        }
        return CLIAgent(
            dialect: dialect,
            options: AgentCLIOptions(binary: binary, maxTurns: options.maxTurns, baseURL: options.agentBaseURL),
            runner: composition.processes,
            environment: environment,
            keys: keys,
            pricing: pricing
        )
    }
}

extension SandboxMode: ExpressibleByArgument {}
extension NetworkAccess: ExpressibleByArgument {}
