import Foundation

/// How an attempt ended without landing, and what it does to its group.
package struct AttemptConclusion: Sendable, Equatable {
    package var key: AttemptKey
    package var outcome: AttemptOutcome
    /// One line for people: why it failed.
    package var reason: String
    /// What the next attempt's prompt says about this one (reason and output tail).
    package var feedback: String
    package var stall: StallAssessment?
    /// The group's status afterwards: pending (retry) or blocked.
    package var groupStatus: GroupStatus
    /// Dependents blocked together with the group.
    package var blockedDependents: [String]
    /// The regression verify that failed, for ``AttemptOutcome/regression``.
    package var verification: Verification?
    /// What the attempt's gate showed passing of the group's criteria.
    package var criteria: CriteriaScore?

    package init(
        key: AttemptKey,
        outcome: AttemptOutcome,
        reason: String,
        feedback: String,
        stall: StallAssessment?,
        groupStatus: GroupStatus,
        blockedDependents: [String] = [],
        verification: Verification? = nil,
        criteria: CriteriaScore? = nil
    ) {
        self.key = key
        self.outcome = outcome
        self.reason = reason
        self.feedback = feedback
        self.stall = stall
        self.groupStatus = groupStatus
        self.blockedDependents = blockedDependents
        self.verification = verification
        self.criteria = criteria
    }
}
