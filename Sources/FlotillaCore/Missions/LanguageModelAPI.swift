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
