import FlotillaCore
import Foundation

/// An attempt whose gate passed, waiting to land.
struct MergeCandidate: Sendable, Equatable {
    var key: AttemptKey
    /// What lands: the commit its gate judged.
    var commit: String
    var criteria: CriteriaScore?
    /// Where the attempt started; a fixup needs what landed since.
    var startCommit: String
    /// Why a person must see it before it lands (``AttemptEvidence/held``).
    var held: String?
}

/// What one landing round did with its candidates.
struct MergeRound: Sendable {
    enum Outcome: Sendable {
        /// The candidates in `included` landed together as `commit` (or, in a round just verified, are to land).
        case landed(commit: String, tree: String, regression: Verification)
        /// The merged commit of `included` failed its regression verify; nothing moved.
        case regression(Verification)
        /// Every candidate conflicted with the head: there was nothing to verify.
        case nothingToLand
        case cancelled
        case error(String)
    }

    /// Candidates that conflict with the target head itself.
    var conflicts: [(candidate: MergeCandidate, files: [String], messages: String)] = []
    /// Candidates that only conflict with others of the same round: they try again in the next one.
    var deferred: [MergeCandidate] = []
    /// Candidates merged into the commit that was verified.
    var included: [MergeCandidate] = []
    var outcome = Outcome.nothingToLand
}
