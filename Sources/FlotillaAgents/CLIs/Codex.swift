import FlotillaCore
import Foundation

/// OpenAI Codex: `codex exec --json --sandbox workspace-write -C WORKTREE -`, the prompt on stdin.
package struct Codex: AgentCLIDialect {
    package let name = "codex"
    package let program = "codex"

    /// `CODEX_HOME` (default `~/.codex`): its config and auth.
    package func settingsPaths(home: String, environment: [String: String]) -> [String] {
        [environment["CODEX_HOME"] ?? home + "/.codex"]
    }

    /// The OpenAI API, and ChatGPT's for a ChatGPT sign-in.
    package func hosts(model: String?, options: AgentCLIOptions) -> [String] {
        ["api.openai.com", "chatgpt.com", "auth.openai.com"] + AgentHosts.forURL(options.baseURL)
    }

    package func keyVariables(model: String?, options: AgentCLIOptions) -> [String] {
        ["CODEX_API_KEY", "OPENAI_API_KEY"]
    }

    /// `codex exec` reads `CODEX_API_KEY`; an OpenAI key alone would need `codex login`, so it is handed over
    /// under that name too (as the vendor's SDK does).
    package func sessionKeys(_ keys: APIKeys, model: String?, options: AgentCLIOptions) -> [String: String] {
        var given = keys.environment(for: keyVariables(model: model, options: options))
        if given["CODEX_API_KEY"] == nil { given["CODEX_API_KEY"] = given["OPENAI_API_KEY"] }
        return given
    }

    package init() {}

    package func arguments(_ request: AgentRequest, options: AgentCLIOptions) -> [String] {
        var arguments = [
            "exec", "--json", "--sandbox", "workspace-write", "--skip-git-repo-check", "-C", request.worktree,
        ]
        if let model = request.model { arguments += ["-m", model] }
        // `-` reads the prompt from standard input.
        return arguments + ["-"]
    }

    package func interpret(_ run: CLIRun) -> CLISession {
        var session = CLISession()
        var completed = false
        var turnFailure: String?
        var lastError: String?
        var totals = Usage()
        for event in CLIOutput.objects(run.standardOutput) {
            switch event["type"] as? String {
            case "turn.completed":
                completed = true
                let usage = event["usage"] as? [String: Any] ?? [:]
                totals.add(
                    Usage(
                        inputTokens: CLIOutput.int(usage["input_tokens"]),
                        outputTokens: CLIOutput.int(usage["output_tokens"]),
                        cacheReadTokens: CLIOutput.int(usage["cached_input_tokens"])
                    )
                )
            case "turn.failed":
                turnFailure = (event["error"] as? [String: Any])?["message"] as? String ?? "turn failed"
            case "error":
                // Also used for transient "Reconnecting…" notices: terminal only without a turn.completed.
                lastError = event["message"] as? String
            case "item.completed":
                let item = event["item"] as? [String: Any] ?? [:]
                if item["type"] as? String == "agent_message" { session.finalMessage = item["text"] as? String }
            default:
                continue
            }
        }
        // Cached input is part of input_tokens: count it once, as cache reads.
        session.usage = Usage(
            inputTokens: max(0, totals.inputTokens - totals.cacheReadTokens),
            outputTokens: totals.outputTokens,
            cacheReadTokens: totals.cacheReadTokens
        )
        if let turnFailure {
            session.failure = CLIOutput.classify(turnFailure)
        } else if !completed {
            if let lastError {
                session.failure = CLIOutput.classify(lastError)
            } else if run.exitCode == 0 {
                session.failure = .malformedOutput("codex ended without turn.completed")
            } else {
                session.failure = CLIOutput.exitFailure(run, "codex")
            }
        } else if run.exitCode != 0 {
            session.failure = .agentError(
                "codex exited \(run.exitCode ?? -1): \(CLIOutput.lastLine(run.standardError))"
            )
        }
        return session
    }
}
