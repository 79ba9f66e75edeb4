import Foundation

/// One call to a language model on a mission's behalf: who asked, what it cost, how it went.
package struct ModelCall: Sendable, Equatable, Codable {
    package enum Role: String, Sendable, Codable, CaseIterable {
        case planner, critic
        /// Scores a verified attempt before it lands (`--review`).
        case reviewer
        /// Plans an attempt before its agent runs (`--architect`).
        case architect
        /// Judges whether the goal is met once every group landed (`--objective-check`).
        case objective
        /// Reads a passing diff for special-casing of the tests or the grader (`--hack-check`).
        case hackCheck = "hack_check"
    }

    package var role: Role
    /// The attempt a critic or reviewer read; nil for the planner and the objective check.
    package var attempt: AttemptKey?
    /// The model that answered, else the one asked.
    package var model: String
    package var usage: Usage
    package var duration: Duration
    /// Why no usable answer came, when none did.
    package var error: String?

    package init(
        role: Role,
        attempt: AttemptKey? = nil,
        model: String,
        usage: Usage,
        duration: Duration,
        error: String? = nil
    ) {
        self.role = role
        self.attempt = attempt
        self.model = model
        self.usage = usage
        self.duration = duration
        self.error = error
    }
}
/// A model call as the ledger holds it.
package struct ModelCallRecord: Sendable, Equatable {
    package var call: ModelCall
    package var at: Date

    package init(call: ModelCall, at: Date) {
        self.call = call
        self.at = at
    }
}
