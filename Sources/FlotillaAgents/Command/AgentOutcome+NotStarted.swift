import FlotillaCore

extension AgentOutcome {
    /// The outcome of a session whose program could not start: nothing was attempted, so it is the session's
    /// failure, not the mission's error.
    static func notStarted(_ request: AgentRequest, _ reason: String) -> AgentOutcome {
        AgentOutcome(
            termination: nil,
            transcriptPath: request.transcriptPath,
            failure: .crashed(reason),
            duration: .zero
        )
    }
}
