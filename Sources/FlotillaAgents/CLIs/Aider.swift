import FlotillaCore
import Foundation

/// Aider: `aider --message-file PROMPT --yes-always --no-auto-commits …`, one message, then it exits.
///
/// Aider prints no JSON: its `Tokens: … Cost: …` lines are the usage, and it exits 0 even when an edit did not
/// apply, so the gate alone judges the work.
package struct Aider: AgentCLIDialect {
    package let name = "aider"
    package let program = "aider"

    /// Its caches (the model price list it would otherwise fetch at every start) and its settings file.
    package func settingsPaths(home: String, environment: [String: String]) -> [String] {
        [home + "/.aider", home + "/.aider.conf.yml"]
    }

    package func keyVariables(model: String?, options: AgentCLIOptions) -> [String] {
        ModelProvider.keyVariables(model: model, baseURL: options.baseURL)
    }

    package init() {}

    /// litellm would download a price list at every start; aider's own update check is off by flag.
    package var headlessEnvironment: [String: String] { ["LITELLM_LOCAL_MODEL_COST_MAP": "True"] }

    /// Its histories and repository-map cache, should a setting put them in the checkout after all.
    package var ownFiles: [String] {
        [".aider.chat.history.md", ".aider.input.history", ".aider.llm.history", ".aider.tags.cache.v*"]
    }

    /// The session's own folder beside the transcript (not in the checkout): its histories and settings.
    private func folder(_ request: AgentRequest) -> String { request.transcriptPath + ".aider" }

    /// The chat history.
    package func resultFile(_ request: AgentRequest) -> String? { folder(request) + "/chat.history.md" }

    /// The flags a headless session needs, and no more.
    ///
    /// No prompt, no commits or `.gitignore` edits of its own (Flotilla commits), no update check or analytics,
    /// plain output, no repository map, its histories out of the checkout. The edit format, the model's settings
    /// and anything else are aider's own choice (per model, and the repository's `.aider.conf.yml`), or
    /// `--agent-arg`.
    package func arguments(_ request: AgentRequest, options: AgentCLIOptions) -> [String] {
        let own = folder(request)
        var arguments = [
            "--message-file", request.promptFile, "--yes-always", "--no-auto-commits", "--no-dirty-commits",
            "--no-gitignore", "--no-check-update", "--no-show-model-warnings", "--no-show-release-notes",
            "--analytics-disable", "--no-pretty", "--no-stream", "--map-tokens", "0",
            "--chat-history-file", own + "/chat.history.md", "--input-history-file", own + "/input.history",
        ]
        if !sessionFiles(request, options: options).isEmpty {
            arguments += ["--model-settings-file", own + "/model-settings.yml"]
        }
        if let model = request.model { arguments += ["--model", model] }
        if let base = options.baseURL { arguments += ["--openai-api-base", base] }
        // aider would take the protected files the prompt names as editable (see `PromptMentions`).
        for file in request.readOnlyFiles { arguments += ["--read", file] }
        return arguments
    }

    /// The model settings file, with `max_output_tokens` or sampling.
    ///
    /// aider takes a reply's cap and its sampling only from such a file; `aider/extra_params` applies to whichever
    /// model the session uses, after aider's own `temperature = 0`, so what is set here wins. `top_k` is not an OpenAI parameter: it goes in `extra_body`, which the server reads.
    package func sessionFiles(_ request: AgentRequest, options: AgentCLIOptions) -> [String: String] {
        let sampling = options.sampling(request)
        var lines: [String] = []
        if let cap = options.maxOutputTokens { lines.append("    max_tokens: \(cap)") }
        if let temperature = sampling.temperature { lines.append("    temperature: \(temperature)") }
        if let topP = sampling.topP { lines.append("    top_p: \(topP)") }
        if let seed = sampling.seed { lines.append("    seed: \(seed)") }
        if let topK = sampling.topK { lines.append("    extra_body:\n      top_k: \(topK)") }
        guard !lines.isEmpty else { return [:] }
        return [
            folder(request) + "/model-settings.yml":
                "- name: aider/extra_params\n  extra_params:\n" + lines.joined(separator: "\n") + "\n"
        ]
    }

    package func interpret(_ run: CLIRun) -> CLISession {
        var session = CLISession()
        var lastSessionCost: Double?
        // When a reply hits the model's limit aider prints no `Tokens:` line, only its estimate:
        // "Input tokens: ~6,819 of 0 -- possibly exhausted context window!".
        var estimate = Usage()
        for line in run.standardOutput.split(separator: "\n") {
            let text = line.trimmingCharacters(in: CharacterSet(charactersIn: "> ").union(.whitespaces))
            for (prefix, output) in [("Input tokens: ~", false), ("Output tokens: ~", true)]
            where text.hasPrefix(prefix) {
                let digits = text.dropFirst(prefix.count).prefix { $0.isNumber || $0 == "," }.filter(\.isNumber)
                guard let count = Int(digits) else { continue }
                estimate.add(output ? Usage(outputTokens: count) : Usage(inputTokens: count))
            }
            guard text.hasPrefix("Tokens: ") else { continue }
            // "2.4k sent, 1.2k cache hit, 39 received." — counts have decimal points, so cut at "received".
            let counts = text.dropFirst("Tokens: ".count)
            let end = counts.range(of: "received").map(\.upperBound) ?? counts.endIndex
            let fields = counts[..<end].split(separator: ",")
            for field in fields {
                let words = field.trimmingCharacters(in: .whitespaces).split(separator: " ")
                guard let count = words.first.flatMap({ Self.tokens(String($0)) }) else { continue }
                let kind = words.dropFirst().joined(separator: " ")
                switch kind {
                case "sent": session.usage.add(Usage(inputTokens: count))
                case "received": session.usage.add(Usage(outputTokens: count))
                case "cache write": session.usage.add(Usage(cacheWriteTokens: count))
                case "cache hit": session.usage.add(Usage(cacheReadTokens: count))
                default: continue
                }
            }
            // "Cost: $0.0063 message, $0.0125 session." — the session figure is the running total.
            if let range = text.range(of: "Cost: $") {
                let rest = text[range.upperBound...]
                if let marker = rest.range(of: "message, $") {
                    lastSessionCost = Usage.dollars(
                        Double(rest[marker.upperBound...].prefix { $0.isNumber || $0 == "." })
                    )
                }
            }
        }
        if session.usage == Usage() { session.usage = estimate }
        // Without a price for the model aider prints tokens only; the pricing table may know it.
        session.reportedCostUSD = lastSessionCost
        if run.exitCode != 0 {
            session.failure = CLIOutput.exitFailure(
                run,
                "aider",
                said: run.standardError.isEmpty ? run.standardOutput : run.standardError
            )
        }
        return session
    }

    /// `2.4k` → 2400, `24k` → 24000, `39` → 39.
    static func tokens(_ text: String) -> Int? {
        if text.hasSuffix("k"), let value = Double(text.dropLast()) { return Usage.tokens(value * 1000) }
        return Double(text).map { Usage.tokens($0) }
    }
}
