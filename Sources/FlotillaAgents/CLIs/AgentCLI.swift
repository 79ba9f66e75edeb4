import FlotillaCore
import Foundation

/// How one agent CLI is driven headless: its argv (typed, never a shell string) and how to read its output.
package protocol AgentCLIDialect: Sendable {
    /// The backend name (`claude`, `codex`…).
    var name: String { get }
    /// The program looked up on `PATH` unless a binary is given.
    var program: String { get }
    /// Arguments for one fresh session; the prompt goes on standard input.
    func arguments(_ request: AgentRequest, options: AgentCLIOptions) -> [String]
    /// Reads what the session printed: usage, the final message, and how it failed, if it did.
    func interpret(_ run: CLIRun) -> CLISession
    /// Variables the tool needs to run headless, added to the agent's environment.
    var headlessEnvironment: [String: String] { get }
    /// A file the tool writes its result to (read after the run, instead of or besides stdout).
    func resultFile(_ request: AgentRequest) -> String?
    /// The variables this tool reads its API key from, for `model`.
    func keyVariables(model: String?, options: AgentCLIOptions) -> [String]
    /// The keys one session is given: by default those of ``keyVariables(model:options:)`` that were found.
    func sessionKeys(_ keys: APIKeys, model: String?, options: AgentCLIOptions) -> [String: String]
    /// In a sandbox: the tool's own login and settings, as paths of the home directory (read and write).
    func settingsPaths(home: String, environment: [String: String]) -> [String]
    /// For the `allowlist` network policy: the hosts a session needs (its model API, `--agent-base-url`).
    func hosts(model: String?, options: AgentCLIOptions) -> [String]
    /// Top-level names (globs) of the files the tool writes for itself in its working directory.
    var ownFiles: [String] { get }
    /// Files the session reads, written into the folder of ``resultFile(_:)`` before it starts (settings the
    /// tool takes only from a file), by path.
    func sessionFiles(_ request: AgentRequest, options: AgentCLIOptions) -> [String: String]
}

extension AgentCLIDialect {
    package var headlessEnvironment: [String: String] { [:] }
    package var ownFiles: [String] { [] }
    package func sessionFiles(_ request: AgentRequest, options: AgentCLIOptions) -> [String: String] { [:] }
    package func resultFile(_ request: AgentRequest) -> String? { nil }
    package func sessionKeys(_ keys: APIKeys, model: String?, options: AgentCLIOptions) -> [String: String] {
        keys.environment(for: keyVariables(model: model, options: options))
    }
    package func settingsPaths(home: String, environment: [String: String]) -> [String] { [] }
    package func hosts(model: String?, options: AgentCLIOptions) -> [String] {
        AgentHosts.forModel(model) + AgentHosts.forURL(options.baseURL)
    }
}

/// How the CLI adapters are run: the executable, and the mission's fields they read.
package struct AgentCLIOptions: Sendable, Equatable {
    /// The executable (default: `program` on `PATH`).
    package var binary: String?
    /// The mission's fields; the adapters read theirs (`max_turns`, `agent_base_url`…) from here, so a new one
    /// needs no plumbing.
    package var fields: MissionFields

    package init(binary: String? = nil, fields: MissionFields = MissionFields()) {
        self.binary = binary
        self.fields = fields
    }

    package var maxTurns: Int? { fields.maxTurns }
    package var maxOutputTokens: Int? { fields.maxOutputTokens }
    /// How the session's model samples, with the attempt's own seed.
    package func sampling(_ request: AgentRequest) -> Sampling { Sampling(fields).forAttempt(request.attempt) }
    /// For tools that take one (aider, mini): the OpenAI-compatible API root their model is served from.
    package var baseURL: String? { fields.agentBaseURL }
}

/// What a finished CLI process left for the adapter to read.
package struct CLIRun: Sendable {
    package var exitCode: Int?
    package var standardOutput: String
    package var standardError: String
    /// The model the request asked for, if any.
    package var model: String?
    /// The contents of the dialect's result file, when it has one and the tool wrote it.
    package var resultFile: String?

    package init(
        exitCode: Int?,
        standardOutput: String,
        standardError: String,
        model: String?,
        resultFile: String? = nil
    ) {
        self.exitCode = exitCode
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.model = model
        self.resultFile = resultFile
    }
}

/// A session as an adapter read it.
package struct CLISession: Sendable, Equatable {
    /// Tokens, normalised (input excludes cached input; reasoning counts as output).
    package var usage = Usage()
    /// Dollars the tool reported itself; nil when it reports tokens only.
    package var reportedCostUSD: Double?
    /// The model the tool said it used.
    package var model: String?
    package var finalMessage: String?
    /// In a structured mode, the answer as JSON text, when the tool gave it apart from its final message.
    package var structuredOutput: String?
    package var failure: AgentFailure?

    package init() {}
}

/// Runs a CLI dialect as an ``AgentBackend``: one process per attempt in the worktree, output streamed to the
/// transcript, cost as reported or from the pricing table.
package struct CLIAgent: AgentBackend {
    package let dialect: any AgentCLIDialect
    package let options: AgentCLIOptions
    private let runner: any ProcessRunner
    private let environment: [String: String]
    private let keys: APIKeys
    private let pricing: PricingTable

    /// Creates the backend.
    ///
    /// - Parameters:
    ///   - dialect: The tool.
    ///   - options: How it is run.
    ///   - runner: Runs its processes.
    ///   - environment: The allowlisted environment every session starts from.
    ///   - keys: The keys found; each session gets those its tool reads.
    ///   - pricing: Prices tokens when the tool reports no cost.
    package init(
        dialect: any AgentCLIDialect,
        options: AgentCLIOptions,
        runner: any ProcessRunner,
        environment: [String: String],
        keys: APIKeys = APIKeys(environment: [:]),
        pricing: PricingTable = .builtIn
    ) {
        self.dialect = dialect
        self.options = options
        self.runner = runner
        self.environment = environment
        self.keys = keys
        self.pricing = pricing
    }

    package var name: String { dialect.name }
    package var ownFiles: [String] { dialect.ownFiles }

    /// The largest result file read (mini's trajectory); a larger one counts as unreadable output.
    static let resultFileLimit = 32 << 20

    package func run(_ request: AgentRequest) async throws -> AgentOutcome {
        // The tool's own keys go to its sessions only; the verify command and other tools never see them.
        let extra = dialect.headlessEnvironment.merging(
            dialect.sessionKeys(keys, model: request.model, options: options)
        ) { _, key in key }
        var process = ProcessRequest(
            executable: options.binary ?? dialect.program,
            arguments: dialect.arguments(request, options: options) + (options.fields.agentArgs ?? []),
            workingDirectory: request.worktree,
            environment: request.sessionEnvironment(base: environment, adding: extra)
        )
        process.standardInput = .file(request.promptFile)
        let resultPath = dialect.resultFile(request)
        // The result file's directory is the session's own: in a sandbox, the one place beside its checkout it writes.
        let resultDirectory = resultPath.map { ($0 as NSString).deletingLastPathComponent }
        if let resultDirectory {
            try? FileManager.default.removeItem(atPath: resultDirectory)
            try? FileManager.default.createDirectory(atPath: resultDirectory, withIntermediateDirectories: true)
        }
        for (path, contents) in dialect.sessionFiles(request, options: options) {
            try? contents.write(toFile: path, atomically: true, encoding: .utf8)
        }
        if var confinement = request.confinement {
            if let home = process.environment["HOME"], !home.isEmpty {
                confinement.homeShares += dialect.settingsPaths(home: home, environment: process.environment)
            }
            confinement.allowedHosts += dialect.hosts(model: request.model, options: options)
            if let resultDirectory { confinement.writable.append(resultDirectory) }
            process.confinement = confinement
        }
        process.outputFile = request.transcriptPath
        process.timeout = request.timeout
        let result: ProcessResult
        do {
            result = try await runner.run(process)
        } catch {
            return .notStarted(request, "\(dialect.program) could not start: \(error)")
        }
        var session = dialect.interpret(
            CLIRun(
                exitCode: result.termination.exitCode,
                standardOutput: result.standardOutput,
                standardError: result.standardError,
                model: request.model,
                resultFile: resultPath.flatMap { path in
                    FileManager.default.regularFileContents(atPath: path, limit: Self.resultFileLimit)
                        .map { String(decoding: $0, as: UTF8.self) }
                }
            )
        )
        if result.timedOut {
            session.failure = .timedOut
        } else if case .signaled(let signal) = result.termination, session.failure == nil {
            session.failure = .crashed("\(dialect.program) ended by signal \(signal)")
        }
        var usage = session.usage
        let model = session.model ?? request.model
        usage.costUSD = session.reportedCostUSD ?? model.flatMap { pricing.cost(of: usage, model: $0) } ?? 0
        // Whatever the tool printed, what goes on is finite, non-negative and bounded.
        usage = usage.bounded
        return AgentOutcome(
            termination: result.termination,
            timedOut: result.timedOut,
            finalMessage: session.finalMessage,
            usage: usage,
            transcriptPath: request.transcriptPath,
            failure: session.failure,
            duration: result.duration
        )
    }
}

/// Reading helpers shared by the dialects.
enum CLIOutput {
    /// Why a session that exited non-zero failed: the last line it printed to `text` (stderr by default), else
    /// `TOOL exited N`.
    static func exitFailure(_ run: CLIRun, _ tool: String, said text: String? = nil) -> AgentFailure {
        let said = lastLine(text ?? run.standardError)
        return classify(said.isEmpty ? "\(tool) exited \(run.exitCode ?? -1)" : said)
    }

    /// A session that left no result: its output is malformed when it exited 0, else it failed as it said.
    static func noResult(_ run: CLIRun, _ tool: String, _ missing: String) -> AgentFailure {
        run.exitCode == 0 ? .malformedOutput("\(tool) \(missing)") : exitFailure(run, tool)
    }

    /// Every line that is a JSON object; other lines (banners, debug output) are skipped, as the vendors' SDKs do.
    static func objects(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { line in
            // Looked at before anything copies the line: most lines of a long transcript are not JSON.
            guard line.utf8.first(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) == UInt8(ascii: "{")
            else { return nil }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any]
        }
    }

    /// A token count from a JSON value: bounded (``Usage/tokens(_:)``), whatever the tool printed.
    static func int(_ value: Any?) -> Int { Usage.tokens((value as? NSNumber)?.doubleValue) }

    /// Dollars from a JSON value: nil unless a finite, non-negative number; bounded (``Usage/dollars(_:)``).
    static func double(_ value: Any?) -> Double? { Usage.dollars((value as? NSNumber)?.doubleValue) }

    /// A status code from a JSON value (an HTTP status, an error code): nil unless a whole number of a sane size.
    static func status(_ value: Any?) -> Int? {
        guard let number = (value as? NSNumber)?.doubleValue, number.isFinite, abs(number) < 1e9,
            number == number.rounded()
        else { return nil }
        return Int(number)
    }

    /// The last non-empty line of a text, for error messages.
    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { String($0).trimmingWhitespace() } ?? ""
    }

    /// A failure from an error message, by what it says (used when a tool gives no structured error kind).
    static func classify(_ message: String, status: Int? = nil) -> AgentFailure {
        let lowered = message.lowercased()
        if status == 429 || lowered.contains("rate limit") || lowered.contains("429") || lowered.contains("quota")
            || lowered.contains("hit your limit") || lowered.contains("usage limit")
            || lowered.contains("resource_exhausted") || lowered.contains("too many requests")
        {
            return .rateLimited(message)
        }
        if status == 401 || status == 403 || lowered.contains("401") || lowered.contains("unauthorized")
            || lowered.contains("api key") || lowered.contains("authentication") || lowered.contains("/login")
        {
            return .authentication(message)
        }
        if status == 404
            || (lowered.contains("model")
                && (lowered.contains("not found") || lowered.contains("does not exist")
                    || lowered.contains("issue with the selected model")))
        {
            return .modelNotFound(message)
        }
        return .agentError(message)
    }
}
