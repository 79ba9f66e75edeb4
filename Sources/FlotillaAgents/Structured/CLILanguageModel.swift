import FlotillaCore
import Foundation

/// An agent CLI in its structured mode as a language model, for the planner and critic roles: one headless
/// process per answer, `claude -p --output-format json --json-schema SCHEMA` or
/// `codex exec --json --output-schema FILE --sandbox read-only`.
///
/// Neither may change files: claude runs without permission to (no bypass flag), codex in a read-only sandbox. claude
/// loads no settings (`--setting-sources ""`), so no hook an agent planted runs in it. Whatever the tool promises, the
/// answer is checked against the schema here.
package struct CLILanguageModel: LanguageModel {
    package enum Tool: String, Sendable, CaseIterable {
        case claude, codex
    }

    package let tool: Tool
    private let binary: String?
    private let model: String?
    private let runner: any ProcessRunner
    private let environment: [String: String]
    private let keys: APIKeys
    private let directory: String
    private let pricing: PricingTable
    private let timeout: Duration
    private let confinement: Confinement?

    /// Creates the model.
    ///
    /// - Parameters:
    ///   - tool: The CLI.
    ///   - binary: Its executable, when not its name on `PATH`.
    ///   - model: The model it is asked to use (default: its own).
    ///   - runner: Runs it.
    ///   - environment: The allowlisted environment it starts from; it is given its own keys only.
    ///   - keys: The keys found.
    ///   - directory: Where it runs (the repository, which it may read).
    ///   - pricing: Prices tokens when the tool reports no cost.
    ///   - timeout: How long one answer may take.
    ///   - confinement: How each session is confined (a mission's sandbox, read-only on the repository); nil runs it
    ///     as the user. Either way it gets a private copy of the tool's login, never the user's settings.
    package init(
        tool: Tool,
        binary: String?,
        model: String?,
        runner: any ProcessRunner,
        environment: [String: String],
        keys: APIKeys,
        directory: String,
        pricing: PricingTable = .builtIn,
        timeout: Duration = .seconds(600),
        confinement: Confinement? = nil
    ) {
        self.tool = tool
        self.binary = binary
        self.model = model
        self.runner = runner
        self.environment = environment
        self.keys = keys
        self.directory = directory
        self.pricing = pricing
        self.timeout = timeout
        self.confinement = confinement
    }

    private var dialect: any AgentCLIDialect {
        switch tool {
        case .claude: ClaudeCode()
        case .codex: Codex()
        }
    }

    package var label: String {
        let mode = tool == .claude ? "claude -p --json-schema" : "codex exec --output-schema"
        return mode + (model.map { ", model \($0)" } ?? "")
    }

    package func answer(_ request: StructuredRequest) async throws -> StructuredAnswer {
        let schemaText = String(decoding: try JSONEncoder().encode(request.schema), as: UTF8.self)
        var schemaFile: String?
        defer { if let schemaFile { try? FileManager.default.removeItem(atPath: schemaFile) } }
        var arguments: [String]
        switch tool {
        case .claude:
            arguments = ["-p", "--output-format", "json", "--json-schema", schemaText]
            // No settings (their hooks run commands), no MCP servers but the ones given (none): a model role reads
            // what agents may have written, so nothing of theirs may run in it.
            arguments += ["--setting-sources", "", "--strict-mcp-config"]
            arguments += ["--append-system-prompt", request.system]
            if let model { arguments += ["--model", model] }
        case .codex:
            let path = NSTemporaryDirectory() + "flotilla-schema-\(UUID().uuidString.prefix(8)).json"
            try schemaText.write(toFile: path, atomically: true, encoding: .utf8)
            schemaFile = path
            arguments = ["exec", "--json", "--output-schema", path, "--sandbox", "read-only", "--skip-git-repo-check"]
            if let model { arguments += ["-m", model] }
            arguments.append("-")
        }
        let options = AgentCLIOptions(binary: binary)
        // The tool's login, copied into a directory of this session's own: whatever an agent planted in the user's
        // settings is not there, and whatever this session writes there is gone with it.
        let home = try PrivateToolHome(tool, environment: environment)
        defer { home.remove() }
        var process = ProcessRequest(
            executable: binary ?? dialect.program,
            arguments: arguments,
            workingDirectory: directory,
            environment: environment.merging(dialect.sessionKeys(keys, model: model, options: options)) { $1 }
                .merging(home.environment) { $1 }
        )
        if var confinement {
            confinement.writable.append(home.path)
            confinement.readable += [schemaFile, binary].compactMap { $0 }
            confinement.allowedHosts += dialect.hosts(model: model, options: options)
            process.confinement = confinement
        }
        process.standardInput = .text(Self.conversation(request, includeSystem: tool == .codex))
        process.timeout = timeout
        let result: ProcessResult
        do {
            result = try await runner.run(process)
        } catch {
            throw LanguageModelError.tool("\(dialect.program) could not start: \(error)")
        }
        if result.timedOut { throw LanguageModelError.tool("\(dialect.program) gave no answer within \(timeout)") }
        let session = dialect.interpret(
            CLIRun(
                exitCode: result.termination.exitCode,
                standardOutput: result.standardOutput,
                standardError: result.standardError,
                model: model
            )
        )
        var usage = session.usage
        let answeredModel = session.model ?? model ?? dialect.program
        usage.costUSD = session.reportedCostUSD ?? pricing.cost(of: usage, model: answeredModel) ?? 0
        usage = usage.bounded
        if let failure = session.failure { throw LanguageModelError.tool("\(dialect.program) \(failure)") }
        // claude puts the answer in `structured_output`, but leaves it null when the model skipped its tool and
        // wrote the JSON as text; codex's final message is the JSON.
        guard let text = session.structuredOutput ?? session.finalMessage else {
            throw LanguageModelError.invalidAnswer(text: "", problems: ["the tool gave no answer"], usage: usage)
        }
        let value = try StructuredAnswer.checkedValue(from: text, schema: request.schema, usage: usage)
        return StructuredAnswer(value: value, text: text, usage: usage, model: answeredModel)
    }

    /// The conversation as one prompt: a CLI session takes one message, so earlier turns are quoted in it.
    static func conversation(_ request: StructuredRequest, includeSystem: Bool) -> String {
        var parts: [String] = []
        if includeSystem { parts.append(request.system) }
        if request.messages.count == 1 {
            parts.append(request.messages[0].text)
        } else {
            for message in request.messages {
                let speaker = message.role == .user ? "User" : "You answered"
                parts.append("\(speaker):\n\(message.text)")
            }
        }
        parts.append("Answer with JSON only.")
        return parts.joined(separator: "\n\n")
    }
}
