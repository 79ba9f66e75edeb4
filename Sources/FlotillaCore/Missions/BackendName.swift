/// The agent backends a mission may name.
package enum BackendName: String, Sendable, Codable, CaseIterable {
    /// Scripted, offline (a scenario file).
    case simulate
    /// Any executable, the prompt on stdin.
    case command
    case claude
    case codex
    case gemini
    case opencode
    case cursor
    case aider
    case mini

    /// The backends that are agent CLIs: those a fallback may be.
    package static let agentCLIs: [BackendName] = allCases.filter(\.isAgentCLI)

    package var isAgentCLI: Bool { self != .simulate && self != .command }
}
