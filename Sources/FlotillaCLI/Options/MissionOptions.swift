import ArgumentParser
import FlotillaCore
import FlotillaService
import Foundation

/// The flags of a mission: each one a ``MissionFields`` field, checked by its rule, not here.
///
/// The groups of one role (agent, critic, planner) follow it in this file: `init` and `plan` take them too, so
/// every flag of the mission is spelled and explained once, here.
struct MissionOptions: ParsableArguments {
    @Option(help: "The goal, in words (default: the checklist's `# Title`).")
    var goal: String?

    @Option(help: "The acceptance checklist, Markdown or JSON (default: ACCEPTANCE.md at the repository root).")
    var acceptance: String?

    @Option(help: "The verify command: exit 0 passes. It runs with FLOTILLA_GROUPS set to the groups to check.")
    var verify: String?

    @Option(help: "Agents working in parallel (1–64, default 2).")
    var agents: Int?

    @OptionGroup(title: "Agent") var agent: AgentOptions

    @Option(
        parsing: .unconditionalSingleValue,
        help: "For agent CLI backends: an argument added to every session's command line (repeatable, in order)."
    )
    var agentArg: [String] = []

    @Option(
        help: """
            Seconds every agent waits after one hits a rate limit, when the agent does not say how long (default \
            30); doubles while limits repeat. Such attempts do not count against the group.
            """
    )
    var rateLimitBackoff: Double?

    @Option(help: "The longest wait after a rate limit, in seconds (default 900).")
    var rateLimitMaxWait: Double?

    @OptionGroup(title: "Critic") var critic: CriticOptions

    @OptionGroup(title: "Sampling") var sampling: SamplingOptions

    @Option(help: "For --backend simulate: the scenario file (JSON).")
    var scenario: String?

    // Unconditional parsing lets "-1" (uncapped) follow the flag; otherwise it reads as an unknown flag.
    @Option(
        parsing: .unconditional,
        help: "Stop before spending more than this many US dollars (-1: uncapped; default 10)."
    )
    var maxCost: Double?

    @Option(parsing: .unconditional, help: "Stop after this many seconds of running time (-1: uncapped; default 4 h).")
    var timeout: Double?

    @Option(parsing: .unconditional, help: "Stop before starting more than this many attempts in all (-1: uncapped).")
    var maxAttempts: Int?

    @Option(help: "Seconds one agent session may run before it is stopped (default 1800).")
    var attemptTimeout: Double?

    @Option(help: "Seconds one run of the verify command may take (default 1800).")
    var verifyTimeout: Double?

    @Option(
        help: """
            Verified attempts waiting to land that share one regression verify (a failing batch is split until the \
            culprit is alone; default 8); 1 lands every group as its own commit.
            """
    )
    var mergeBatch: Int?

    @Option(help: "Failed attempts without progress before a group escalates (strategy hint, then blocked; default 3).")
    var stallThreshold: Int?

    @Flag(
        inversion: .prefixedNo,
        help: """
            Hold back a ready group expected to touch files of running work (its checklist `Files:` line, files its \
            earlier attempts conflicted on) while other groups can run (default on).
            """
    )
    var avoidOverlap: Bool?

    @Option(
        help: """
            Review each verified attempt with the critic's model before it lands: advise (scored and recorded) or \
            block (a score under --review-threshold sends it back with the review). A review that fails or times \
            out blocks nothing.
            """
    )
    var review: ReviewMode?

    @Option(
        help: """
            Architect/editor: a first, read-only pass plans each attempt and the group's backend implements the \
            plan (both recorded). critic plans with the critic's model; or name one: anthropic, openai, claude or \
            codex, with an optional :MODEL (claude:opus, openai:qwen2.5-coder with --architect-url).
            """
    )
    var architect: String?

    @Option(name: .customLong("architect-url"), help: "With --architect openai: the OpenAI-compatible server's URL.")
    var architectURL: String?

    @Flag(
        inversion: .prefixedNo,
        help: """
            When a candidate that passed its gate alone fails its regression verify merged with work that landed \
            after it started, start the group's next attempt from that merged commit, with both diffs and the \
            failure in its prompt (default on).
            """
    )
    var fixups: Bool?

    @Flag(
        help: """
            Once every group has landed, ask the critic's model whether the goal is met; the groups it proposes are \
            added (up to --objective-max-groups) and worked like the others, or with --approve final put to a human.
            """
    )
    var objectiveCheck = false

    @Option(help: "With --objective-check: how many groups it may add over the whole mission (default 3).")
    var objectiveMaxGroups: Int?

    @Option(
        help: """
            Best of N: once a group has failed twice, run N attempts of it at once (2-5) with different approach \
            hints; the best-ranked passing one lands, the others are recorded with why they lost. A group's \
            `Speculate: N` line asks for it from the first attempt.
            """
    )
    var speculate: Int?

    @Option(
        help: """
            Run each attempt as the pipeline NAME, a [pipeline.NAME] of flotilla.toml or config.toml: its steps \
            (plan, implement, review…) in order, each its own agent session, then the gate, which alone decides. \
            A group's `Pipeline: NAME` line overrides it for that group.
            """
    )
    var pipeline: String?

    @Option(help: "A label to find the mission by, with `flotilla list --tag` (repeatable).")
    var tag: [String] = []

    @Option(help: "NAME=TEXT kept with the mission and sent with its callback, a ticket or a requester (repeatable).")
    var meta: [String] = []

    @Option(
        help: """
            When the mission ends, POST its result here, signed like a webhook notification with the secret in \
            FLOTILLA_CALLBACK_SECRET (X-Flotilla-Signature over the timestamp and body); retried with backoff.
            """
    )
    var callbackURL: String?

    @Option(help: "With --review block: the score of 10 an attempt needs to land (default 6).")
    var reviewThreshold: Int?

    @Option(help: "Seconds a review may take before it is skipped (default 300).")
    var reviewTimeout: Double?

    @Option(
        help: """
            What waits for a human: none (default); landings (each verified candidate, until `flotilla approve` or             `flotilla reject --reason`); final (the finished mission, before it is completed).
            """
    )
    var approve: ApprovalMode?

    @Option(
        help: """
            A git remote (name or URL) the target branch is pushed to after each landing and at the end, with a lease: \
            never over work Flotilla did not push. With --approve final, only at the end, once approved.
            """
    )
    var push: String?

    @Option(help: "Seconds work waits for a human before --approval-timeout-action is taken (default: no limit).")
    var approvalTimeout: Double?

    @Option(help: "What the approval timeout does: reject (default; the group tries again) or approve.")
    var approvalTimeoutAction: ApprovalTimeoutAction?

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
            cursor, claude_oauth_token). It wins over the environment and config.toml, is read at each start, and \
            only the tool that reads that key is given it.
            """
    )
    var keyFile: [String] = []

    @Flag(help: "Keep each attempt's branch after the mission, for inspection.")
    var keepBranches = false

    @Flag(
        help: """
            Let attempts edit existing tests. By default an edit to a test file of the start commit (tests/, \
            test_*.py, *.test.ts, *_test.go…) is taken back before the gate; a group's `Allow: PATTERN` line opens \
            only its own.
            """
    )
    var allowTestEdits = false

    @Option(
        parsing: .unconditional,
        help: "Bytes one attempt may add (its files' growth; -1: uncapped; default 20 MB); more is rejected."
    )
    var maxAddedBytes: Int?

    @Option(parsing: .unconditional, help: "Files one attempt may add (-1: uncapped; default 2000); more is rejected.")
    var maxAddedFiles: Int?

    @Option(
        help: """
            A change that reaches into the test runner (conftest.py, pytest.ini, sitecustomize.py, a module named like \
            a tool, os._exit, FLOTILLA_ variables): reject it with the reason (default), or hold: judge it as usual \
            and, if it passes, wait for a person (approve or reject) before it lands; no approval timeout lands it.
            """
    )
    var graderReach: GraderReachPolicy?

    @Flag(
        help: """
            Before a passing attempt lands, ask the critic's model whether its diff special-cases the tests or the \
            grader; a flagged attempt waits for a person. Needs the critic (--critic, --critic-url).
            """
    )
    var hackCheck = false

    @Option(
        help: """
            Where agent sessions and verify runs execute: bwrap (bubblewrap: a read-only system, the checkout the \
            only writable project path, a private home and /tmp, no view of .flotilla/ or write access to .git, \
            every process ended with the session), none (as you, with orphans ended), or auto (bwrap when it works \
            here, else none, said once; the default).
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
            What the verify command may reach: none (default; it runs code agents wrote), open, or allowlist (the \
            --allow-host hosts). Use open if it downloads dependencies.
            """
    )
    var verifyNetwork: NetworkAccess?

    @Option(help: "A path sandboxed processes may read, though it is under your home or /tmp (repeatable).")
    var sandboxRead: [String] = []

    @Option(help: "A path sandboxed processes may write, besides their checkout (repeatable).")
    var sandboxWrite: [String] = []

    /// The fields the flags give (paths made absolute against the working directory), checked; an error names
    /// the flag.
    func fields() throws(FlotillaError) -> MissionFields {
        var given = MissionFields()
        given.goal = goal
        given.acceptancePath = acceptance
        given.verify = verify
        given.agents = agents
        agent.apply(to: &given)
        critic.apply(to: &given)
        sampling.apply(to: &given)
        given.agentArgs = agentArg.nonEmpty
        given.rateLimitBackoffSeconds = rateLimitBackoff
        given.rateLimitMaxWaitSeconds = rateLimitMaxWait
        given.scenario = scenario
        given.maxCostUSD = maxCost
        given.timeoutSeconds = timeout
        given.maxAttempts = maxAttempts
        given.attemptTimeoutSeconds = attemptTimeout
        given.verifyTimeoutSeconds = verifyTimeout
        given.mergeBatch = mergeBatch
        given.stallThreshold = stallThreshold
        given.approve = approve
        given.avoidOverlap = avoidOverlap
        given.fixups = fixups
        given.review = review
        given.architect = architect
        given.architectURL = architectURL
        given.objectiveCheck = objectiveCheck ? true : nil
        given.objectiveMaxGroups = objectiveMaxGroups
        given.speculate = speculate
        given.pipeline = pipeline
        given.tags = tag.nonEmpty
        given.metadata = try Self.metadata(meta)
        given.callbackURL = callbackURL
        given.reviewThreshold = reviewThreshold
        given.reviewTimeoutSeconds = reviewTimeout
        given.push = push
        given.approvalTimeoutSeconds = approvalTimeout
        given.approvalTimeoutAction = approvalTimeoutAction
        given.targetBranch = targetBranch
        given.base = base
        given.protect = protect.nonEmpty
        given.passEnv = passEnv.nonEmpty
        given.keyFiles = keyFile.nonEmpty
        given.keepBranches = keepBranches ? true : nil
        given.allowTestEdits = allowTestEdits ? true : nil
        given.maxAddedBytes = maxAddedBytes
        given.maxAddedFiles = maxAddedFiles
        given.graderReach = graderReach
        given.hackCheck = hackCheck ? true : nil
        given.sandbox = sandbox
        given.network = network
        given.allowHosts = allowHost.nonEmpty
        given.verifyNetwork = verifyNetwork
        given.sandboxRead = sandboxRead.nonEmpty
        given.sandboxWrite = sandboxWrite.nonEmpty
        let resolved = given.resolvingPaths(against: FileManager.default.currentDirectoryPath)
        return try MissionFields.decode(resolved.jsonObject, name: Self.flag)
    }

    /// `--meta NAME=TEXT` entries as metadata; a later name replaces an earlier one.
    static func metadata(_ entries: [String]) throws(FlotillaError) -> [String: String]? {
        var metadata: [String: String] = [:]
        for entry in entries {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw FlotillaError.invalid("--meta \(entry): expected NAME=TEXT")
            }
            metadata[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return metadata.isEmpty ? nil : metadata
    }

    /// The flag that sets a field (`--max-cost` for `max_cost_usd`).
    static func flag(_ field: String) -> String {
        let key = String(field.prefix { $0 != "[" })
        let names = [
            "max_cost_usd": "--max-cost", "timeout_seconds": "--timeout",
            "attempt_timeout_seconds": "--attempt-timeout",
            "verify_timeout_seconds": "--verify-timeout", "rate_limit_backoff_seconds": "--rate-limit-backoff",
            "rate_limit_max_wait_seconds": "--rate-limit-max-wait", "acceptance_path": "--acceptance",
            "fallback_backends": "--fallback-backend", "key_files": "--key-file", "allow_hosts": "--allow-host",
            "agent_args": "--agent-arg", "approval_timeout_seconds": "--approval-timeout",
            "review_timeout_seconds": "--review-timeout", "tags": "--tag", "metadata": "--meta",
        ]
        return names[key] ?? "--" + key.replacingOccurrences(of: "_", with: "-")
    }
}

extension BackendName: ExpressibleByArgument {}
extension LanguageModelAPI: ExpressibleByArgument {}
extension SandboxMode: ExpressibleByArgument {}
extension NetworkAccess: ExpressibleByArgument {}
extension ApprovalMode: ExpressibleByArgument {}
extension ReviewMode: ExpressibleByArgument {}
extension ApprovalTimeoutAction: ExpressibleByArgument {}
extension GraderReachPolicy: ExpressibleByArgument {}

extension Array {
    /// The array, or nil when empty: a repeatable flag given no times sets nothing.
    var nonEmpty: [Element]? { isEmpty ? nil : self }
}

/// The agent's flags, shared by `run` (one mission's fields) and `init` (config.toml's `[agent]`).
struct AgentOptions: ParsableArguments {
    @Option(
        help: """
            Agent backend: an agent CLI (claude, codex, gemini, opencode, cursor, aider, mini), command (any \
            executable), or simulate (scripted and offline, for demos and tests; not for init).
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
            For aider and mini: the most tokens one reply of the model may hold (a small model can otherwise \
            ramble for minutes).
            """
    )
    var maxOutputTokens: Int?

    @Option(help: "For --backend command: the command line each attempt runs (prompt on stdin).")
    var agentCommand: String?

    @Option(help: "Model name handed to the agent backend.")
    var model: String?

    /// Sets the fields these flags give.
    func apply(to fields: inout MissionFields) {
        fields.backend = backend
        fields.fallbackBackends = fallbackBackend.nonEmpty
        fields.agentBinary = agentBinary
        fields.agentBaseURL = agentBaseURL
        fields.maxTurns = maxTurns
        fields.maxOutputTokens = maxOutputTokens
        fields.agentCommand = agentCommand
        fields.model = model
    }
}

/// The critic's flags, shared by `run` (one mission's fields) and `init` (config.toml's `[critic]`).
struct CriticOptions: ParsableArguments {
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

    /// Sets the fields these flags give.
    func apply(to fields: inout MissionFields) {
        fields.critic = critic
        fields.criticBinary = criticBinary
        fields.criticURL = criticURL
        fields.criticModel = criticModel
    }
}

/// The planner's flags, shared by `plan` and by `run` with a goal and no checklist.
struct PlannerOptions: ParsableArguments {
    @Option(
        help: """
            Planner: openai (any OpenAI-compatible server) or anthropic (HTTP APIs), or claude or codex (their CLIs' \
            structured modes).
            """
    )
    var planner: LanguageModelAPI?

    @Option(help: "The planner's API root, e.g. http://127.0.0.1:8000/v1.")
    var plannerURL: String?

    @Option(help: "The planner's model.")
    var plannerModel: String?

    @Option(help: "For --planner claude or codex: the executable (default: its name on PATH).")
    var plannerBinary: String?

    @Option(
        help: """
            For HTTP planners: the most tokens one answer may hold (default 4096). A small local model on a busy \
            machine may otherwise write for many minutes; an answer cut short is invalid and sent back for repair.
            """
    )
    var plannerMaxTokens: Int?

    func validate() throws {
        if let plannerMaxTokens, !(1...1_000_000).contains(plannerMaxTokens) {
            throw ValidationError("--planner-max-tokens must be between 1 and 1000000")
        }
    }

    /// The settings the flags give; `keyFiles` come from the command's `--key-file`.
    func settings(keyFiles: [String]) -> LanguageModelSettings {
        LanguageModelSettings(
            api: planner,
            url: plannerURL,
            model: plannerModel,
            binary: plannerBinary,
            keyFiles: keyFiles
        )
    }
}
