import FlotillaCore
import Foundation

/// mini-swe-agent: `mini -t TASK --yolo --exit-immediately -o TRAJECTORY`.
///
/// It exits 0 when it gave up too (`LimitsExceeded`, `RepeatedFormatError`): the trajectory's `info.exit_status`
/// and `info.model_stats` are the truth, not the exit status or stdout; tokens are the sum of the usage of each
/// reply the trajectory keeps (`messages[].extra.response.usage`).
package struct MiniSWEAgent: AgentCLIDialect {
    package let name = "mini"
    package let program = "mini"

    /// Its global configuration (`.env`, written by `mini-extra config`).
    package func settingsPaths(home: String, environment: [String: String]) -> [String] {
        [environment["MSWEA_GLOBAL_CONFIG_DIR"] ?? home + "/.config/mini-swe-agent"]
    }

    package func keyVariables(model: String?, options: AgentCLIOptions) -> [String] {
        ModelProvider.keyVariables(model: model, baseURL: options.baseURL)
    }

    package init() {}

    package var headlessEnvironment: [String: String] {
        ["MSWEA_CONFIGURED": "true", "MSWEA_COST_TRACKING": "ignore_errors", "LITELLM_LOCAL_MODEL_COST_MAP": "True"]
    }

    /// Trajectories, should an `-o` of the user's send one into the checkout.
    package var ownFiles: [String] { ["*.traj.json"] }

    package func resultFile(_ request: AgentRequest) -> String? { trajectory(request) }

    /// Where the session writes its trajectory: its own folder beside the transcript.
    private func trajectory(_ request: AgentRequest) -> String { request.transcriptPath + ".mini/trajectory.json" }

    package func arguments(_ request: AgentRequest, options: AgentCLIOptions) -> [String] {
        var arguments = ["-t", request.prompt, "--yolo", "--exit-immediately", "-c", "mini.yaml"]
        if let model = request.model { arguments += ["-m", model] }
        if let base = options.baseURL { arguments += ["-c", "model.model_kwargs.api_base=\(base)"] }
        if let cap = options.maxOutputTokens { arguments += ["-c", "model.model_kwargs.max_tokens=\(cap)"] }
        let sampling = options.sampling(request)
        if let temperature = sampling.temperature {
            arguments += ["-c", "model.model_kwargs.temperature=\(temperature)"]
        }
        if let topP = sampling.topP { arguments += ["-c", "model.model_kwargs.top_p=\(topP)"] }
        if let seed = sampling.seed { arguments += ["-c", "model.model_kwargs.seed=\(seed)"] }
        if let topK = sampling.topK { arguments += ["-c", "model.model_kwargs.extra_body.top_k=\(topK)"] }
        return arguments + ["-o", trajectory(request)]
    }

    package func interpret(_ run: CLIRun) -> CLISession {
        var session = CLISession()
        guard let text = run.resultFile,
            let trajectory = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let info = trajectory["info"] as? [String: Any]
        else {
            session.failure = CLIOutput.noResult(run, "mini", "wrote no trajectory")
            return session
        }
        session.reportedCostUSD = CLIOutput.double((info["model_stats"] as? [String: Any])?["instance_cost"])
        // Each model reply keeps the server's response, with its usage, in the message's `extra`.
        for message in trajectory["messages"] as? [[String: Any]] ?? [] {
            guard let extra = message["extra"] as? [String: Any], let response = extra["response"] as? [String: Any],
                let usage = response["usage"] as? [String: Any]
            else { continue }
            let cached = CLIOutput.int((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"])
            let prompt = CLIOutput.int(usage["prompt_tokens"])
            session.usage.add(
                Usage(
                    inputTokens: max(0, prompt - cached),
                    outputTokens: CLIOutput.int(usage["completion_tokens"]),
                    cacheReadTokens: min(cached, prompt)
                )
            )
        }
        session.finalMessage = info["submission"] as? String
        let status = info["exit_status"] as? String ?? "unknown"
        switch status {
        case "Submitted": break
        case "LimitsExceeded": session.failure = .budgetExhausted("mini-swe-agent hit its step or cost limit")
        case "TimeExceeded": session.failure = .timedOut
        default: session.failure = CLIOutput.classify("mini-swe-agent ended with \(status)")
        }
        return session
    }
}
