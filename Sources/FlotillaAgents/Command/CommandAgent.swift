import FlotillaCore
import Foundation

/// Runs any executable as the agent: `/bin/sh -c COMMAND` in the worktree, with the prompt on stdin and
/// `FLOTILLA_MISSION`, `FLOTILLA_GROUP`, `FLOTILLA_ATTEMPT` and `FLOTILLA_PROMPT_FILE` in its environment.
///
/// The command may report usage by printing a JSON object line with `cost_usd` (and optionally
/// `input_tokens`, `output_tokens`, `cache_read_tokens`, `cache_write_tokens`, `message`); the last one wins.
package struct CommandAgent: AgentBackend {
    package let name = "command"
    package let command: String
    private let runner: any ProcessRunner
    private let environment: [String: String]

    /// Creates the backend.
    ///
    /// - Parameters:
    ///   - command: The command line each attempt runs with `/bin/sh -c`.
    ///   - runner: Runs the command.
    ///   - environment: The allowlisted environment the command runs with.
    package init(command: String, runner: any ProcessRunner, environment: [String: String]) {
        self.command = command
        self.runner = runner
        self.environment = environment
    }

    package func run(_ request: AgentRequest) async throws -> AgentOutcome {
        var process = ProcessRequest.shell(
            command,
            workingDirectory: request.worktree,
            environment: request.sessionEnvironment(base: environment)
        )
        process.standardInput = .file(request.promptFile)
        process.outputFile = request.transcriptPath
        if var confinement = request.confinement {
            // Files the command line names (its script, its settings) are there to read, wherever they are.
            confinement.readable += Self.paths(in: command)
            process.confinement = confinement
        }
        process.timeout = request.timeout
        let result: ProcessResult
        do {
            result = try await runner.run(process)
        } catch {
            return .notStarted(request, "\(error)")
        }
        let report = Self.usageReport(in: result.standardOutput + "\n" + result.outputTail)
        var failure: AgentFailure? = result.timedOut ? .timedOut : nil
        // The shell's own statuses for a program it could not run: nothing was attempted, so there is nothing to grade.
        if !result.timedOut, case .exited(let code) = result.termination, code == 126 || code == 127 {
            let said = result.standardError.trimmingWhitespace().split(separator: "\n").last.map(String.init) ?? ""
            failure = .crashed("the agent command could not run (exit \(code)\(said.isEmpty ? "" : ": \(said)"))")
        }
        return AgentOutcome(
            termination: result.termination,
            timedOut: result.timedOut,
            finalMessage: report?.message,
            usage: report?.usage ?? .zero,
            transcriptPath: request.transcriptPath,
            failure: failure,
            duration: result.duration
        )
    }

    /// Absolute paths of existing files or directories among the words of a command line.
    static func paths(in command: String) -> [String] {
        command.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "'" || $0 == "\"" || $0 == "=" })
            .map(String.init).filter { $0.hasPrefix("/") && FileManager.default.fileExists(atPath: $0) }
    }

    /// The last JSON object line that carries `cost_usd`.
    static func usageReport(in output: String) -> (usage: Usage, message: String?)? {
        for line in output.split(separator: "\n").reversed() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("{"), trimmed.contains("cost_usd"),
                let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
                let cost = Usage.dollars((object["cost_usd"] as? NSNumber)?.doubleValue)
            else { continue }
            func count(_ key: String) -> Int { Usage.tokens((object[key] as? NSNumber)?.doubleValue) }
            let usage = Usage(
                inputTokens: count("input_tokens"),
                outputTokens: count("output_tokens"),
                cacheReadTokens: count("cache_read_tokens"),
                cacheWriteTokens: count("cache_write_tokens"),
                costUSD: cost
            )
            return (usage, object["message"] as? String)
        }
        return nil
    }
}
