import Foundation

/// A landing of one attempt as the ledger holds it.
package struct MergeRecord: Sendable, Equatable {
    package enum State: String, Sendable, Codable, CaseIterable {
        case pending
        case landed
        case conflict
        case regression
    }

    package var attempt: AttemptKey
    package var state: State
    package var targetBefore: String
    /// The commit the landing verified (and moves or moved the target branch to), once verified.
    package var mergedCommit: String?
    /// The passing regression verify of `mergedCommit`, once recorded.
    package var verification: Verification?

    package init(
        attempt: AttemptKey,
        state: State,
        targetBefore: String,
        mergedCommit: String?,
        verification: Verification?
    ) {
        self.attempt = attempt
        self.state = state
        self.targetBefore = targetBefore
        self.mergedCommit = mergedCommit
        self.verification = verification
    }
}
