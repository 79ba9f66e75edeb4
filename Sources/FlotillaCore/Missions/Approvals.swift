import Foundation

/// Where a human decides before work goes further (`--approve`).
package enum ApprovalMode: String, Sendable, Codable, CaseIterable {
    /// Verified work lands without asking.
    case none
    /// Each verified candidate waits for a human to approve its landing (or reject it, with a reason that goes to
    /// the group's next attempt).
    case landings
    /// The finished mission, every group landed and the final verify passed, waits for a human before it is
    /// completed (and handed off).
    case final
}

/// What happens to work still waiting when `--approval-timeout` runs out.
package enum ApprovalTimeoutAction: String, Sendable, Codable, CaseIterable {
    case approve
    case reject
}

/// What becomes of an attempt whose change reaches into what grades it (`--grader-reach`): rejected with the reason
/// (the default), or judged as usual and, if it passes, held for a person before it lands.
package enum GraderReachPolicy: String, Sendable, Codable, CaseIterable {
    case reject
    case hold
}

/// A human's (or the timeout's) answer about a verified candidate, or about a finished mission.
package struct ApprovalDecision: Sendable, Equatable, Codable {
    package var approved: Bool
    /// Why, in the decider's words; for a rejection, what the next attempt should do differently.
    package var reason: String?
    /// Who decided: `cli`, `api`, `mcp`, `dashboard`, `timeout`.
    package var by: String

    package init(approved: Bool, reason: String? = nil, by: String) {
        self.approved = approved
        self.reason = reason
        self.by = by
    }
}

/// A request for approval as the ledger holds it: a group's attempt (or, with no attempt, the whole mission).
package struct ApprovalRecord: Sendable, Equatable {
    /// The attempt whose landing waits; nil for the finished mission (`--approve final`).
    package var attempt: AttemptKey?
    package var requestedAt: Date
    package var decision: ApprovalDecision?
    package var decidedAt: Date?

    /// Why a landing was held for a person although the mission does not ask for approvals (it reaches into the
    /// grader, or the hack check flagged it); such a landing is never approved by a timeout.
    package var hold: String?

    package init(
        attempt: AttemptKey?,
        requestedAt: Date,
        decision: ApprovalDecision?,
        decidedAt: Date?,
        hold: String? = nil
    ) {
        self.attempt = attempt
        self.requestedAt = requestedAt
        self.decision = decision
        self.decidedAt = decidedAt
        self.hold = hold
    }
}

extension MissionFields {
    /// What the approval timeout decides about something that has waited for a human since `since`, once its time has
    /// come (`--approval-timeout`, `--approval-timeout-action`, rejecting by default); nil before, or without one.
    package func timeoutDecision(waitingSince since: Date, now: Date) -> ApprovalDecision? {
        guard let timeout = approvalTimeout, now.timeIntervalSince(since) >= timeout.seconds else { return nil }
        let action = approvalTimeoutAction ?? .reject
        return ApprovalDecision(
            approved: action == .approve,
            reason: "no decision within \(timeout.shortDescription); the timeout action is \(action.rawValue)",
            by: "timeout"
        )
    }
}
