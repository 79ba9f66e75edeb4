import FlotillaCore
import Foundation

/// OpenCode: `opencode run --format json --auto MESSAGE`, the task appended from stdin.
package struct OpenCode: AgentCLIDialect {
    package let name = "opencode"
    package let program = "opencode"

    /// Its auth (`~/.local/share/opencode/auth.json`), config and model cache.
    package func settingsPaths(home: String, environment: [String: String]) -> [String] {
        [home + "/.local/share/opencode", home + "/.config/opencode", home + "/.cache/opencode"]
    }

    /// The model's provider, and models.dev, where it reads the model list.
    package func hosts(model: String?, options: AgentCLIOptions) -> [String] {
        AgentHosts.forModel(model) + ["models.dev"]
    }

    /// opencode serves many providers; its model names say which (`anthropic/claude-…`).
    package func keyVariables(model: String?, options: AgentCLIOptions) -> [String] {
        ModelProvider.keyVariables(model: model, baseURL: nil)
    }

    package init() {}

    package func arguments(_ request: AgentRequest, options: AgentCLIOptions) -> [String] {
        // Without --auto, permission requests are rejected in `run`.
        var arguments = ["run", "--format", "json", "--auto"]
        if let model = request.model { arguments += ["-m", model] }
        return arguments + ["Carry out the task below."]
    }

    package func interpret(_ run: CLIRun) -> CLISession {
        var session = CLISession()
        var steps = 0
        var cost = 0.0
        for event in CLIOutput.objects(run.standardOutput) {
            let part = event["part"] as? [String: Any] ?? [:]
            switch event["type"] as? String {
            case "step_finish":
                steps += 1
                cost += CLIOutput.double(part["cost"]) ?? 0
                let tokens = part["tokens"] as? [String: Any] ?? [:]
                let cache = tokens["cache"] as? [String: Any] ?? [:]
                session.usage.add(
                    Usage(
                        inputTokens: CLIOutput.int(tokens["input"]),
                        outputTokens: CLIOutput.int(tokens["output"]) + CLIOutput.int(tokens["reasoning"]),
                        cacheReadTokens: CLIOutput.int(cache["read"]),
                        cacheWriteTokens: CLIOutput.int(cache["write"])
                    )
                )
            case "text":
                if let text = part["text"] as? String { session.finalMessage = text }
            case "error":
                let error = event["error"] as? [String: Any] ?? [:]
                let message =
                    (error["data"] as? [String: Any])?["message"] as? String ?? error["name"] as? String ?? "error"
                session.failure = CLIOutput.classify(message)
            default:
                continue
            }
        }
        // Each step reports its own cost; the session's is their sum.
        session.reportedCostUSD = steps > 0 ? cost : nil
        if session.failure == nil {
            if run.exitCode != 0 {
                session.failure = CLIOutput.exitFailure(run, "opencode")
            } else if steps == 0 {
                session.failure = .malformedOutput("opencode finished no step")
            }
        }
        return session
    }
}
