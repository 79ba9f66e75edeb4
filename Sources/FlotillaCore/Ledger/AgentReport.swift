import Foundation

/// What the agent run produced, normalised across backends.
package struct AgentReport: Sendable, Equatable, Codable {
    package var exitCode: Int?
    package var signal: Int?
    package var timedOut: Bool
    package var duration: Duration
    package var usage: Usage
    package var message: String?
    /// A classified failure of the agent itself (not of the work), such as a crash or an auth error.
    package var failure: String?
    /// The backend that ran the session, when not the mission's own (a fallback took over).
    package var backend: String?

    package init(
        exitCode: Int?,
        signal: Int? = nil,
        timedOut: Bool = false,
        duration: Duration,
        usage: Usage = .zero,
        message: String? = nil,
        failure: String? = nil,
        backend: String? = nil
    ) {
        self.backend = backend
        self.exitCode = exitCode
        self.signal = signal
        self.timedOut = timedOut
        self.duration = duration
        self.usage = usage
        self.message = message
        self.failure = failure
    }
}
