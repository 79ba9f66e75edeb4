/// One agent session: a fresh, non-interactive run in a worktree.
package struct AgentRequest: Sendable, Equatable {
    package var mission: MissionID
    package var attempt: AttemptKey
    /// The worktree the agent works in (its current directory).
    package var worktree: String
    package var prompt: String
    /// The prompt, also written to a file for tools that read files.
    package var promptFile: String
    package var model: String?
    package var timeout: Duration
    /// Variables added to the agent's allowlisted environment.
    package var environment: [String: String]
    /// Where the agent's output is streamed.
    package var transcriptPath: String
    /// Dollars this session may spend; nil when the mission is uncapped.
    ///
    /// What the budget leaves after what is spent and what the other running sessions are expected to spend.
    /// Agents that can cap themselves do.
    package var budgetUSD: Double?
    /// The sandbox the session runs in, as the mission sets it; the backend adds what its tool needs (its own
    /// settings directory, its executable, its API hosts).
    package var confinement: Confinement?
    /// Files the prompt names that the agent may read but not change (protected paths, existing tests), relative
    /// to the worktree: tools that take files into the session as editable open these read-only.
    package var readOnlyFiles: [String]

    package init(
        mission: MissionID,
        attempt: AttemptKey,
        worktree: String,
        prompt: String,
        promptFile: String,
        model: String?,
        timeout: Duration,
        environment: [String: String],
        transcriptPath: String,
        budgetUSD: Double? = nil,
        confinement: Confinement? = nil,
        readOnlyFiles: [String] = []
    ) {
        self.confinement = confinement
        self.readOnlyFiles = readOnlyFiles
        self.budgetUSD = budgetUSD
        self.mission = mission
        self.attempt = attempt
        self.worktree = worktree
        self.prompt = prompt
        self.promptFile = promptFile
        self.model = model
        self.timeout = timeout
        self.environment = environment
        self.transcriptPath = transcriptPath
    }
}

/// Why an agent session failed, as far as the agent itself (not the work) is concerned.
package enum AgentFailure: Sendable, Equatable, CustomStringConvertible {
    case crashed(String)
    case timedOut
    case authentication(String)
    /// A rate limit or quota; `detail` carries the reset time when the agent said it.
    case rateLimited(String)
    case maxTurns(String)
    case budgetExhausted(String)
    case modelNotFound(String)
    /// The agent's output could not be understood.
    case malformedOutput(String)
    case agentError(String)

    package var description: String {
        switch self {
        case .crashed(let detail): "crashed: \(detail)"
        case .timedOut: "timed out"
        case .authentication(let detail): "authentication failed: \(detail)"
        case .rateLimited(let detail): "rate limited: \(detail)"
        case .maxTurns(let detail): "hit its turn limit: \(detail)"
        case .budgetExhausted(let detail): "hit its budget: \(detail)"
        case .modelNotFound(let detail): "model not found: \(detail)"
        case .malformedOutput(let detail): "unreadable output: \(detail)"
        case .agentError(let detail): detail
        }
    }
}

/// What an agent session produced.
package struct AgentOutcome: Sendable, Equatable {
    package var termination: Termination?
    package var timedOut: Bool
    package var finalMessage: String?
    package var usage: Usage
    package var transcriptPath: String
    package var failure: AgentFailure?
    package var duration: Duration
    /// The backend that ran the session, when a composite chose it (failover).
    package var backend: String?
    /// After a rate limit: the backend the next sessions go to instead of waiting.
    package var failover: String?

    package init(
        termination: Termination?,
        timedOut: Bool = false,
        finalMessage: String? = nil,
        usage: Usage = .zero,
        transcriptPath: String,
        failure: AgentFailure? = nil,
        duration: Duration
    ) {
        self.termination = termination
        self.timedOut = timedOut
        self.finalMessage = finalMessage
        self.usage = usage
        self.transcriptPath = transcriptPath
        self.failure = failure
        self.duration = duration
    }

    package var report: AgentReport {
        var signal: Int?
        if case .signaled(let number)? = termination { signal = Int(number) }
        let failureText: String? =
            switch failure {
            case .none, .timedOut?: nil
            case .some(let failure): failure.description
            }
        return AgentReport(
            exitCode: termination?.exitCode,
            signal: signal,
            timedOut: timedOut,
            duration: duration,
            usage: usage,
            message: finalMessage,
            failure: failureText,
            backend: backend
        )
    }
}

/// A coding agent Flotilla can drive: the built-in simulator, any command, or an agent CLI.
package protocol AgentBackend: Sendable {
    /// The name used in flags, the ledger and messages (`simulate`, `command`, `claude`…).
    var name: String { get }
    /// Runs one session to its end. The backend enforces `request.timeout`; cancelling the task ends the session.
    func run(_ request: AgentRequest) async throws -> AgentOutcome
    /// Names (globs of top-level entries) of files the tool itself writes into its working directory (histories,
    /// caches): set aside in the mission's folder before the attempt is read, so none reaches a commit.
    var ownFiles: [String] { get }
}

extension AgentBackend {
    package var ownFiles: [String] { [] }
}

extension AgentRequest {
    /// The environment one session runs with: the backend's allowlisted `base`, the request's additions, what
    /// the backend adds (`extra`: headless settings, the tool's keys), then Flotilla's `FLOTILLA_*` variables.
    package func sessionEnvironment(base: [String: String], adding extra: [String: String] = [:]) -> [String: String] {
        var result = base
        result.merge(environment) { _, new in new }
        result.merge(extra) { _, new in new }
        result["FLOTILLA_MISSION"] = mission.rawValue
        result["FLOTILLA_GROUP"] = attempt.group
        result["FLOTILLA_ATTEMPT"] = String(attempt.number)
        result["FLOTILLA_PROMPT_FILE"] = promptFile
        if let model { result["FLOTILLA_MODEL"] = model }
        return result
    }
}
