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

    package init(attempt: AttemptKey?, requestedAt: Date, decision: ApprovalDecision?, decidedAt: Date?) {
        self.attempt = attempt
        self.requestedAt = requestedAt
        self.decision = decision
        self.decidedAt = decidedAt
    }
}

/// What a review of a verified attempt may do (`--review`).
package enum ReviewMode: String, Sendable, Codable, CaseIterable {
    case none
    /// Scored and recorded; the attempt lands whatever the score.
    case advise
    /// A score under the threshold sends the attempt back with the review as its feedback.
    case block
}

/// A reviewer's verdict on a verified attempt.
package struct ReviewVerdict: Sendable, Equatable {
    /// Of 10; nil when the reviewer gave no usable answer (it then blocks nothing).
    package var score: Int?
    package var threshold: Int
    package var blocks: Bool
    package var summary: String
    package var concerns: [String]

    package init(score: Int?, threshold: Int, blocks: Bool, summary: String, concerns: [String]) {
        self.score = score
        self.threshold = threshold
        self.blocks = blocks
        self.summary = summary
        self.concerns = concerns
    }
}
