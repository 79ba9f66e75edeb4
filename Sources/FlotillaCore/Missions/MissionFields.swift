/// Everything a mission can be asked, as flags, `flotilla.toml`, `config.toml`, the environment, the REST API and
/// the webhook give it: one typed contract they all decode into.
///
/// Every field is optional so that layers merge (``layered(over:)``); each is checked once, against its
/// ``CodingKeys/rule`` (type, bounds, default, scope), which also yields the OpenAPI schema and the keys a
/// configuration file accepts. Adding an option is a property, a key with its rule here, and its flag.
package struct MissionFields: Sendable, Equatable, Codable {
    /// The repository to work in; may be left out when the daemon serves exactly one.
    package var repository: String?
    package var goal: String?
    /// The checklist itself, Markdown or JSON text.
    package var acceptance: String?
    package var acceptancePath: String?
    package var verify: String?
    package var agents: Int?
    package var backend: BackendName?
    package var model: String?
    package var agentCommand: String?
    package var agentBinary: String?
    package var agentBaseURL: String?
    package var maxTurns: Int?
    package var maxOutputTokens: Int?
    package var temperature: Double?
    package var topP: Double?
    package var topK: Int?
    package var seed: Int?
    package var agentArgs: [String]?
    package var fallbackBackends: [BackendName]?
    package var scenario: String?
    package var rateLimitBackoffSeconds: Double?
    package var rateLimitMaxWaitSeconds: Double?
    package var critic: LanguageModelAPI?
    package var criticURL: String?
    package var criticModel: String?
    package var criticBinary: String?
    package var maxCostUSD: Double?
    package var timeoutSeconds: Double?
    package var maxAttempts: Int?
    package var attemptTimeoutSeconds: Double?
    package var verifyTimeoutSeconds: Double?
    package var stallThreshold: Int?
    package var mergeBatch: Int?
    package var targetBranch: String?
    package var base: String?
    package var protect: [String]?
    package var passEnv: [String]?
    package var keyFiles: [String]?
    package var keepBranches: Bool?
    package var allowTestEdits: Bool?
    package var maxAddedBytes: Int?
    package var maxAddedFiles: Int?
    package var graderReach: GraderReachPolicy?
    package var hackCheck: Bool?
    package var sandbox: SandboxMode?
    package var network: NetworkAccess?
    package var allowHosts: [String]?
    package var verifyNetwork: NetworkAccess?
    package var sandboxRead: [String]?
    package var sandboxWrite: [String]?
    /// Check everything, create nothing.
    package var approve: ApprovalMode?
    package var push: String?
    package var review: ReviewMode?
    package var avoidOverlap: Bool?
    package var architect: String?
    package var architectURL: String?
    package var objectiveCheck: Bool?
    package var fixups: Bool?
    package var objectiveMaxGroups: Int?
    package var speculate: Int?
    package var pipeline: String?
    package var reviewThreshold: Int?
    package var reviewTimeoutSeconds: Double?
    package var approvalTimeoutSeconds: Double?
    package var approvalTimeoutAction: ApprovalTimeoutAction?
    package var dryRun: Bool?
    /// Labels to find missions by (`list --tag`).
    package var tags: [String]?
    /// The caller's own names and values, kept with the mission and sent with its callback.
    package var metadata: [String: String]?
    /// Where the mission came from (`cli`, `api`, `webhook`, `mcp`): set by Flotilla, never by a request.
    package var source: String?
    /// Where the mission's result is POSTed, signed, when it ends.
    package var callbackURL: String?

    package init() {}

    package enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
        case repository, goal, acceptance
        case acceptancePath = "acceptance_path"
        case verify, agents, backend, model
        case agentCommand = "agent_command"
        case agentBinary = "agent_binary"
        case agentBaseURL = "agent_base_url"
        case maxTurns = "max_turns"
        case maxOutputTokens = "max_output_tokens"
        case temperature
        case topP = "top_p"
        case topK = "top_k"
        case seed
        case agentArgs = "agent_args"
        case fallbackBackends = "fallback_backends"
        case scenario
        case rateLimitBackoffSeconds = "rate_limit_backoff_seconds"
        case rateLimitMaxWaitSeconds = "rate_limit_max_wait_seconds"
        case critic
        case criticURL = "critic_url"
        case criticModel = "critic_model"
        case criticBinary = "critic_binary"
        case maxCostUSD = "max_cost_usd"
        case timeoutSeconds = "timeout_seconds"
        case maxAttempts = "max_attempts"
        case attemptTimeoutSeconds = "attempt_timeout_seconds"
        case verifyTimeoutSeconds = "verify_timeout_seconds"
        case stallThreshold = "stall_threshold"
        case mergeBatch = "merge_batch"
        case targetBranch = "target_branch"
        case base, protect
        case passEnv = "pass_env"
        case keyFiles = "key_files"
        case keepBranches = "keep_branches"
        case allowTestEdits = "allow_test_edits"
        case maxAddedBytes = "max_added_bytes"
        case maxAddedFiles = "max_added_files"
        case graderReach = "grader_reach"
        case hackCheck = "hack_check"
        case sandbox, network
        case allowHosts = "allow_hosts"
        case verifyNetwork = "verify_network"
        case sandboxRead = "sandbox_read"
        case sandboxWrite = "sandbox_write"
        case approve, push, review
        case avoidOverlap = "avoid_overlap"
        case architect
        case architectURL = "architect_url"
        case objectiveCheck = "objective_check"
        case fixups
        case objectiveMaxGroups = "objective_max_groups"
        case speculate, pipeline
        case reviewThreshold = "review_threshold"
        case reviewTimeoutSeconds = "review_timeout_seconds"
        case approvalTimeoutSeconds = "approval_timeout_seconds"
        case approvalTimeoutAction = "approval_timeout_action"
        case dryRun = "dry_run"
        case tags, metadata, source
        case callbackURL = "callback_url"

        /// The field's type, bounds, default and scope.
        package var rule: MissionFieldRule {
            switch self {
            case .repository: .text("The repository's root; optional when the daemon serves one.", scope: .requestOnly)
            case .goal:
                .text(maxLength: 10_000, "The goal, in words (default: the checklist's title).", scope: .requestOnly)
            case .acceptance:
                .text(maxLength: 1_000_000, "The checklist itself, Markdown or JSON.", scope: .requestOnly)
            case .acceptancePath: .path("The checklist file (default ACCEPTANCE.md at the repository root).")
            case .verify: .text(maxLength: 10_000, "The verify command: exit 0 passes.")
            case .agents: MissionFieldRule(.integer(1...64), default: 2, "Agents working in parallel.")
            case .backend: .choice(BackendName.self, "The agent backend.")
            case .model: .text("The model handed to the agent backend.")
            case .agentCommand:
                .text(maxLength: 10_000, "For the command backend: the command line each attempt runs.")
            case .agentBinary: .path("For agent CLI backends: the executable.")
            case .agentBaseURL: .text("For aider and mini: the OpenAI-compatible API root of their model.")
            case .maxTurns: MissionFieldRule(.integer(1...10_000), "For claude: the most turns one session takes.")
            case .maxOutputTokens:
                MissionFieldRule(
                    .integer(1...1_000_000),
                    "For aider and mini: the most tokens one model reply may hold."
                )
            case .temperature:
                MissionFieldRule(
                    .number(atLeast: 0, atMost: 2),
                    "Sampling temperature for aider, mini and the mission's model roles (aider's own default is 0)."
                )
            case .topP:
                MissionFieldRule(.number(atLeast: 0, atMost: 1), "Nucleus sampling: the probability mass kept.")
            case .topK: MissionFieldRule(.integer(1...100_000), "Sampling from the K likeliest tokens only.")
            case .seed:
                MissionFieldRule(
                    .integer(0...2_147_483_647),
                    "The sampling seed; each attempt derives its own from it (best-of-N candidates differ)."
                )
            case .agentArgs:
                MissionFieldRule(.list(.argument), "For agent CLIs: arguments added to every session's argv, in order.")
            case .fallbackBackends:
                MissionFieldRule(
                    .list(.choice(BackendName.agentCLIs.map(\.rawValue))),
                    "Agent CLIs that take over, in order, while the backend is rate limited."
                )
            case .scenario: .path("For the simulate backend: the scenario file (JSON).")
            case .rateLimitBackoffSeconds:
                MissionFieldRule(.number(atLeast: 0), default: 30, "The first wait after an unexplained rate limit.")
            case .rateLimitMaxWaitSeconds:
                MissionFieldRule(.number(atLeast: 0), default: 900, "The longest wait after a rate limit.")
            case .critic: .choice(LanguageModelAPI.self, "The critic that explains failed gates.")
            case .criticURL: .text("The critic's API root (implies the openai critic).")
            case .criticModel: .text("The critic's model.")
            case .criticBinary: .path("For the claude or codex critic: the executable.")
            case .maxCostUSD:
                MissionFieldRule(.number(atLeast: 0), uncappable: true, default: 10, "Spending cap in US dollars.")
            case .timeoutSeconds:
                MissionFieldRule(.number(atLeast: 1), uncappable: true, default: 14_400, "Running-time cap.")
            case .maxAttempts:
                MissionFieldRule(.integer(1...1_000_000), uncappable: true, default: -1, "Cap on attempts in all.")
            case .attemptTimeoutSeconds:
                MissionFieldRule(.number(atLeast: 1), default: 1800, "Seconds one agent session may run.")
            case .verifyTimeoutSeconds:
                MissionFieldRule(.number(atLeast: 1), default: 1800, "Seconds one verify run may take.")
            case .stallThreshold:
                MissionFieldRule(.integer(1...1000), default: 3, "Failed attempts without progress before escalating.")
            case .maxAddedBytes:
                MissionFieldRule(
                    .integer(1...Int(Int32.max)),
                    uncappable: true,
                    default: 20_000_000,
                    "Bytes one attempt may add to the repository (its files' growth); more is rejected."
                )
            case .maxAddedFiles:
                MissionFieldRule(
                    .integer(1...10_000_000),
                    uncappable: true,
                    default: 2_000,
                    "Files one attempt may add; more is rejected."
                )
            case .graderReach:
                .choice(
                    GraderReachPolicy.self,
                    "A change that reaches into the test runner: reject it (default), or hold it for a person."
                )
            case .hackCheck:
                MissionFieldRule(
                    .boolean,
                    default: false,
                    "Ask the critic's model whether each passing diff special-cases the tests; flagged ones wait."
                )
            case .mergeBatch:
                MissionFieldRule(.integer(1...1000), default: 8, "Verified attempts that share one regression verify.")
            case .targetBranch: .text("Where verified work lands (default flotilla/<mission-id>).")
            case .base: .text("The revision agents start from (default HEAD).")
            case .protect: MissionFieldRule(.list(.text), "Paths or globs agents may not change.")
            case .passEnv: MissionFieldRule(.list(.text), "Environment variables passed to agents and verify.")
            case .keyFiles: MissionFieldRule(.list(.keyFile), "PROVIDER=PATH files holding API keys.")
            case .keepBranches: MissionFieldRule(.boolean, default: false, "Keep each attempt's branch.")
            case .allowTestEdits: MissionFieldRule(.boolean, default: false, "Let attempts edit existing tests.")
            case .sandbox: .choice(SandboxMode.self, "Where sessions and verify runs execute (default auto).")
            case .network: .choice(NetworkAccess.self, "What sessions may reach (default: the backend's).")
            case .allowHosts: MissionFieldRule(.list(.host), "Hosts the allowlist lets through.")
            case .verifyNetwork: .choice(NetworkAccess.self, "What the verify command may reach (default none).")
            case .sandboxRead: MissionFieldRule(.list(.path), "Paths sandboxed processes may read.")
            case .sandboxWrite: MissionFieldRule(.list(.path), "Paths sandboxed processes may write.")
            case .approve:
                .choice(ApprovalMode.self, "What waits for a human: each verified landing, the finished mission.")
            case .architect:
                .text(
                    maxLength: 200,
                    "Plan each attempt read-only before its agent runs: critic (its model) or API[:MODEL]."
                )
            case .architectURL: .text("The architect's OpenAI-compatible server, with --architect openai.")
            case .fixups:
                MissionFieldRule(
                    .boolean,
                    default: true,
                    "Start a group's next attempt from the merge that failed integration, with both diffs."
                )
            case .objectiveCheck:
                MissionFieldRule(
                    .boolean,
                    default: false,
                    "Once every group landed, ask the critic's model whether the goal is met; add the groups it proposes."
                )
            case .objectiveMaxGroups:
                MissionFieldRule(
                    .integer(1...20),
                    default: 3,
                    "With objective check: how many groups it may add in all."
                )
            case .speculate:
                MissionFieldRule(
                    .integer(2...5),
                    "Run N attempts at once for a group that failed twice; the best-ranked passing one lands."
                )
            case .pipeline:
                .text(
                    maxLength: 100,
                    "The pipeline each attempt runs ([pipeline.NAME] of flotilla.toml or config.toml), unless its "
                        + "group's Pipeline: line names another; without one, an attempt is one agent session."
                )
            case .avoidOverlap:
                MissionFieldRule(
                    .boolean,
                    default: true,
                    "Hold back a group expected to touch files of a running one (its Files: line, earlier conflicts)."
                )
            case .review:
                .choice(ReviewMode.self, "Score each verified attempt with the critic's model before it lands.")
            case .reviewThreshold:
                MissionFieldRule(.integer(0...10), default: 6, "With review block: the score (of 10) an attempt needs.")
            case .reviewTimeoutSeconds:
                MissionFieldRule(
                    .number(atLeast: 1),
                    default: 300,
                    "Seconds a review may take; then it blocks nothing."
                )
            case .push:
                .text("A git remote the target branch is pushed to after each landing, with a lease (never forced).")
            case .approvalTimeoutSeconds:
                MissionFieldRule(.number(atLeast: 1), "Seconds work waits for a human before the timeout action.")
            case .approvalTimeoutAction:
                .choice(ApprovalTimeoutAction.self, "What the approval timeout does (default reject).")
            case .dryRun:
                MissionFieldRule(.boolean, scope: .requestOnly, default: false, "Check everything, create nothing.")
            case .tags: MissionFieldRule(.list(.tag), "Labels to find the mission by (list --tag).")
            case .metadata:
                MissionFieldRule(
                    .map(maxEntries: 64, maxLength: 1024),
                    scope: .requestOnly,
                    "Names to text kept with the mission and sent with its callback (a ticket, a requester)."
                )
            case .source:
                MissionFieldRule(
                    .string(maxLength: 200, isPath: false),
                    scope: .flotilla,
                    "Where the mission came from: cli, api, webhook, mcp."
                )
            case .callbackURL:
                .text(
                    "Where the result is POSTed when the mission ends, signed with FLOTILLA_CALLBACK_SECRET like a "
                        + "webhook notification.",
                    scope: .requestOnly
                )
            }
        }
    }
}
