/// How a mission runs, beyond what it is asked to do: kept with the mission so that `resume`, `--detach` and
/// the daemon can start it again the same way.
package struct MissionRunOptions: Sendable, Equatable, Codable {
    /// For the `command` backend: the command line each attempt runs.
    package var agentCommand: String?
    /// For the `simulate` backend: the scenario file.
    package var scenarioPath: String?
    /// Environment variables handed to agents and the verify command, by name (values are read at each start).
    package var passEnvironment: [String]
    package var verifyTimeoutSeconds: Double
    package var mergeBatch: Int
    package var keepAttemptBranches: Bool
    /// For agent CLI backends: the executable, when not the tool's name on `PATH`.
    package var agentBinary: String?
    /// For agent CLI backends that support it: the cap on turns per session.
    package var maxTurns: Int?
    /// For aider and mini: the OpenAI-compatible API root their model is served from.
    package var agentBaseURL: String?
    /// The first wait after a rate limit, when the agent does not say how long; doubles while limits repeat.
    package var rateLimitBackoffSeconds: Double?
    /// The longest wait after a rate limit.
    package var rateLimitMaxWaitSeconds: Double?
    /// The critic's API (`openai`, `anthropic`), root URL and model; no critic when all are nil.
    package var criticAPI: String?
    package var criticURL: String?
    package var criticModel: String?
    /// For a CLI critic (claude, codex): its executable, when not its name on `PATH`.
    package var criticBinary: String?
    /// `PROVIDER=PATH` files that hold API keys, read at each start (the keys themselves are never stored).
    package var keyFiles: [String]?
    /// Agent CLIs that take over, in order, while the backend is rate limited (nil in missions from before them).
    package var fallbackBackends: [String]?
    /// Let attempts edit existing tests (they are taken back before the gate otherwise; nil: not allowed).
    package var allowTestEdits: Bool?
    /// The sandbox of agent sessions and verify runs (nil: `auto`).
    package var sandbox: SandboxMode?
    /// What agent sessions may reach (nil: the backend's default, see ``NetworkAccess``).
    package var network: NetworkAccess?
    /// More hosts the `allowlist` policy lets through, for sessions and an `allowlist` verify.
    package var allowHosts: [String]?
    /// What the verify command may reach (nil: `none`).
    package var verifyNetwork: NetworkAccess?
    /// More paths sandboxed processes may read, or read and write.
    package var sandboxRead: [String]?
    package var sandboxWrite: [String]?

    /// The backoff these options ask for.
    package var rateLimitBackoff: RateLimitBackoff {
        RateLimitBackoff(
            base: .seconds(bounded: rateLimitBackoffSeconds ?? 30),
            cap: .seconds(bounded: rateLimitMaxWaitSeconds ?? 900)
        )
    }

    package init(
        agentCommand: String? = nil,
        scenarioPath: String? = nil,
        passEnvironment: [String] = [],
        verifyTimeoutSeconds: Double = 1800,
        mergeBatch: Int = 8,
        keepAttemptBranches: Bool = false,
        agentBinary: String? = nil,
        maxTurns: Int? = nil,
        rateLimitBackoffSeconds: Double? = nil,
        rateLimitMaxWaitSeconds: Double? = nil,
        criticAPI: String? = nil,
        criticURL: String? = nil,
        criticModel: String? = nil,
        agentBaseURL: String? = nil,
        fallbackBackends: [String] = [],
        criticBinary: String? = nil,
        keyFiles: [String] = [],
        allowTestEdits: Bool = false,
        sandbox: SandboxMode? = nil,
        network: NetworkAccess? = nil,
        allowHosts: [String] = [],
        verifyNetwork: NetworkAccess? = nil,
        sandboxRead: [String] = [],
        sandboxWrite: [String] = []
    ) {
        self.sandbox = sandbox
        self.network = network
        self.allowHosts = allowHosts.isEmpty ? nil : allowHosts
        self.verifyNetwork = verifyNetwork
        self.sandboxRead = sandboxRead.isEmpty ? nil : sandboxRead
        self.sandboxWrite = sandboxWrite.isEmpty ? nil : sandboxWrite
        self.allowTestEdits = allowTestEdits ? true : nil
        self.keyFiles = keyFiles.isEmpty ? nil : keyFiles
        self.criticBinary = criticBinary
        self.fallbackBackends = fallbackBackends.isEmpty ? nil : fallbackBackends
        self.agentBaseURL = agentBaseURL
        self.criticAPI = criticAPI
        self.criticURL = criticURL
        self.criticModel = criticModel
        self.rateLimitBackoffSeconds = rateLimitBackoffSeconds
        self.rateLimitMaxWaitSeconds = rateLimitMaxWaitSeconds
        self.agentBinary = agentBinary
        self.maxTurns = maxTurns
        self.agentCommand = agentCommand
        self.scenarioPath = scenarioPath
        self.passEnvironment = passEnvironment
        self.verifyTimeoutSeconds = verifyTimeoutSeconds
        self.mergeBatch = mergeBatch
        self.keepAttemptBranches = keepAttemptBranches
    }

    enum CodingKeys: String, CodingKey {
        case agentCommand = "agent_command"
        case scenarioPath = "scenario_path"
        case passEnvironment = "pass_environment"
        case verifyTimeoutSeconds = "verify_timeout_seconds"
        case mergeBatch = "merge_batch"
        case keepAttemptBranches = "keep_attempt_branches"
        case agentBinary = "agent_binary"
        case maxTurns = "max_turns"
        case rateLimitBackoffSeconds = "rate_limit_backoff_seconds"
        case rateLimitMaxWaitSeconds = "rate_limit_max_wait_seconds"
        case criticAPI = "critic_api"
        case criticURL = "critic_url"
        case criticModel = "critic_model"
        case agentBaseURL = "agent_base_url"
        case fallbackBackends = "fallback_backends"
        case criticBinary = "critic_binary"
        case keyFiles = "key_files"
        case allowTestEdits = "allow_test_edits"
        case sandbox
        case network
        case allowHosts = "allow_hosts"
        case verifyNetwork = "verify_network"
        case sandboxRead = "sandbox_read"
        case sandboxWrite = "sandbox_write"
    }
}
