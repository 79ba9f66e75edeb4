import FlotillaCore
import Foundation

/// Claude Code: `claude -p --output-format stream-json --verbose`, the prompt on stdin.
package struct ClaudeCode: AgentCLIDialect {
    package let name = "claude"
    package let program = "claude"

    /// Its login (`.credentials.json`), settings and session files; `~/.claude.json` holds its state.
    package func settingsPaths(home: String, environment: [String: String]) -> [String] {
        [home + "/.claude", home + "/.claude.json", home + "/.config/claude"]
    }

    package func hosts(model: String?, options: AgentCLIOptions) -> [String] {
        ["api.anthropic.com", "statsig.anthropic.com", "console.anthropic.com"]
    }

    package func keyVariables(model: String?, options: AgentCLIOptions) -> [String] {
        ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"]
    }

    package init() {}

    package func arguments(_ request: AgentRequest, options: AgentCLIOptions) -> [String] {
        // stream-json without --verbose is refused at argument parsing (AGENT-CLIS.md §1.1).
        var arguments = ["-p", "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions"]
        if let model = request.model { arguments += ["--model", model] }
        if let turns = options.maxTurns { arguments += ["--max-turns", String(turns)] }
        // Claude caps itself: a session cannot overspend what the mission has left.
        if let budget = request.budgetUSD { arguments += ["--max-budget-usd", String(format: "%.2f", budget)] }
        return arguments
    }

    package func interpret(_ run: CLIRun) -> CLISession {
        var session = CLISession()
        let trimmed = run.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        // `--output-format json` with verbose settings prints an array of every message instead of lines.
        let messages: [[String: Any]] =
            trimmed.hasPrefix("[")
            ? ((try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [[String: Any]] ?? [])
            : CLIOutput.objects(run.standardOutput)
        for message in messages where message["type"] as? String == "system" && message["subtype"] as? String == "init"
        {
            session.model = message["model"] as? String
        }
        guard let result = messages.last(where: { $0["type"] as? String == "result" }) else {
            session.failure = CLIOutput.noResult(run, "claude", "printed no result")
            return session
        }
        if let usage = result["usage"] as? [String: Any] {
            session.usage = Usage(
                inputTokens: CLIOutput.int(usage["input_tokens"]),
                outputTokens: CLIOutput.int(usage["output_tokens"]),
                cacheReadTokens: CLIOutput.int(usage["cache_read_input_tokens"]),
                cacheWriteTokens: CLIOutput.int(usage["cache_creation_input_tokens"])
            )
        }
        if let models = result["modelUsage"] as? [String: Any], models.count == 1 { session.model = models.keys.first }
        session.reportedCostUSD = CLIOutput.double(result["total_cost_usd"])
        let text = result["result"] as? String
        session.finalMessage = text
        // With --json-schema the answer is `structured_output`; null when the model skipped the tool.
        if let structured = result["structured_output"], !(structured is NSNull),
            let data = try? JSONSerialization.data(withJSONObject: structured, options: [.fragmentsAllowed])
        {
            session.structuredOutput = String(decoding: data, as: UTF8.self)
        }
        // Branch on is_error, never on subtype alone: an API failure arrives as subtype "success" with is_error.
        let subtype = result["subtype"] as? String ?? ""
        let isError = result["is_error"] as? Bool ?? false
        guard isError || subtype != "success" else { return session }
        let errors = (result["errors"] as? [String] ?? []).joined(separator: "; ")
        let detail = [text, errors.isEmpty ? nil : errors].compactMap { $0 }.joined(separator: " — ")
        switch subtype {
        case "error_max_turns": session.failure = .maxTurns(detail.isEmpty ? "--max-turns reached" : detail)
        case "error_max_budget_usd": session.failure = .budgetExhausted(detail.isEmpty ? "budget reached" : detail)
        default:
            let status = CLIOutput.status(result["api_error_status"])
            session.failure = CLIOutput.classify(detail.isEmpty ? "claude reported \(subtype)" : detail, status: status)
        }
        return session
    }
}
