/// What a planner or critic can be: an HTTP API, or an agent CLI in its structured mode.
package enum LanguageModelAPI: String, Sendable, Codable, CaseIterable {
    /// Any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp, LM Studio).
    case openai
    /// Anthropic's Messages API.
    case anthropic
    /// `claude -p --json-schema`.
    case claude
    /// `codex exec --output-schema`.
    case codex

    package static let names = allCases.map(\.rawValue).joined(separator: ", ")
}

/// The model of a role named on the command line: `critic` (the critic's own), or `API[:MODEL]` (`claude:opus`,
/// `openai:qwen2.5-coder`).
package enum ModelChoice: Sendable, Equatable {
    case critic
    case api(LanguageModelAPI, model: String?)

    /// Nil when `text` is neither `critic` nor a known API, with an optional non-empty model after a colon.
    package init?(_ text: String) {
        if text == "critic" {
            self = .critic
            return
        }
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let api = LanguageModelAPI(rawValue: parts[0]) else { return nil }
        if parts.count == 2 && parts[1].isEmpty { return nil }
        self = .api(api, model: parts.count == 2 ? parts[1] : nil)
    }

    /// The API named, if not the critic.
    package var api: LanguageModelAPI? {
        if case .api(let api, _) = self { return api }
        return nil
    }

    package static let help = "critic, or \(LanguageModelAPI.names) with an optional :MODEL"
}
