import FlotillaCore
import Foundation

/// Gemini CLI: `gemini --prompt … --output-format json --approval-mode yolo`, the task on stdin.
package struct GeminiCLI: AgentCLIDialect {
    package let name = "gemini"
    package let program = "gemini"

    package func settingsPaths(home: String, environment: [String: String]) -> [String] { [home + "/.gemini"] }

    /// The Gemini API, and Google's sign-in and Code Assist for a Google account.
    package func hosts(model: String?, options: AgentCLIOptions) -> [String] {
        ["generativelanguage.googleapis.com", "cloudcode-pa.googleapis.com", "oauth2.googleapis.com"]
    }

    package func keyVariables(model: String?, options: AgentCLIOptions) -> [String] {
        ["GEMINI_API_KEY", "GOOGLE_API_KEY"]
    }

    package init() {}

    /// Headless runs refuse untrusted folders (exit 55); the worktree is Flotilla's own.
    package var headlessEnvironment: [String: String] { ["GEMINI_CLI_TRUST_WORKSPACE": "true"] }

    package func arguments(_ request: AgentRequest, options: AgentCLIOptions) -> [String] {
        // `--prompt` is appended to standard input, which carries the task; without yolo, writes are denied.
        var arguments = [
            "--prompt", "Carry out the task above.", "--output-format", "json", "--approval-mode", "yolo",
        ]
        if let model = request.model { arguments += ["-m", model] }
        return arguments
    }

    package func interpret(_ run: CLIRun) -> CLISession {
        var session = CLISession()
        // One pretty-printed, multi-line object, possibly after warning lines.
        let object = run.standardOutput.firstIndex(of: "{").flatMap { start in
            try? JSONSerialization.jsonObject(with: Data(run.standardOutput[start...].utf8)) as? [String: Any]
        }
        if let object {
            session.finalMessage = object["response"] as? String
            let models = (object["stats"] as? [String: Any])?["models"] as? [String: Any] ?? [:]
            var heaviest = -1
            for (model, value) in models {
                let tokens = ((value as? [String: Any])?["tokens"] as? [String: Any]) ?? [:]
                let prompt = CLIOutput.int(tokens["prompt"])
                let cached = CLIOutput.int(tokens["cached"])
                // prompt includes cached; thoughts are billed as output.
                session.usage.add(
                    Usage(
                        inputTokens: max(0, prompt - cached),
                        outputTokens: CLIOutput.int(tokens["candidates"]) + CLIOutput.int(tokens["thoughts"]),
                        cacheReadTokens: cached
                    )
                )
                if prompt > heaviest {
                    heaviest = prompt
                    session.model = model
                }
            }
        }
        let error = object?["error"] as? [String: Any]
        let message = error?["message"] as? String ?? CLIOutput.lastLine(run.standardError)
        switch run.exitCode {
        case 0?:
            if object == nil { session.failure = .malformedOutput("gemini printed no JSON result") }
        case 41?: session.failure = .authentication(message)
        case 53?: session.failure = .maxTurns(message)
        case 55?: session.failure = .agentError("gemini does not trust the worktree: \(message)")
        default:
            let code = CLIOutput.status(error?["code"])
            session.failure = CLIOutput.classify(
                message.isEmpty ? "gemini exited \(run.exitCode ?? -1)" : message,
                status: code
            )
        }
        return session
    }
}
