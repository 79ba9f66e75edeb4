import FlotillaCore
import Foundation

/// Cursor's agent CLI: `cursor-agent -p --output-format json --force`, the prompt on stdin.
package struct CursorAgent: AgentCLIDialect {
    package let name = "cursor"
    package let program = "cursor-agent"

    package func settingsPaths(home: String, environment: [String: String]) -> [String] {
        [home + "/.cursor", home + "/.config/cursor"]
    }

    package func hosts(model: String?, options: AgentCLIOptions) -> [String] {
        ["api2.cursor.sh", "api3.cursor.sh", "repo42.cursor.sh", "*.cursor.sh", "*.cursor.com"]
    }

    package func keyVariables(model: String?, options: AgentCLIOptions) -> [String] { ["CURSOR_API_KEY"] }

    package init() {}

    package func arguments(_ request: AgentRequest, options: AgentCLIOptions) -> [String] {
        var arguments = ["-p", "--output-format", "json", "--force"]
        if let model = request.model { arguments += ["-m", model] }
        return arguments
    }

    package func interpret(_ run: CLIRun) -> CLISession {
        var session = CLISession()
        let result = CLIOutput.objects(run.standardOutput).last { $0["type"] as? String == "result" }
        guard let result, run.exitCode == 0 else {
            // On failure it exits non-zero with a message on stderr and no JSON.
            session.failure = CLIOutput.noResult(run, "cursor-agent", "printed no result")
            return session
        }
        if let usage = result["usage"] as? [String: Any] {
            session.usage = Usage(
                inputTokens: CLIOutput.int(usage["inputTokens"]),
                outputTokens: CLIOutput.int(usage["outputTokens"]),
                cacheReadTokens: CLIOutput.int(usage["cacheReadTokens"]),
                cacheWriteTokens: CLIOutput.int(usage["cacheWriteTokens"])
            )
        }
        session.finalMessage = result["result"] as? String
        if result["is_error"] as? Bool == true {
            session.failure = CLIOutput.classify(session.finalMessage ?? "cursor-agent reported an error")
        }
        return session
    }
}
