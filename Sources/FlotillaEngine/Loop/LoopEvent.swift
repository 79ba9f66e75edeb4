import FlotillaCore
import Foundation

/// Everything the loop hears.
///
/// Answers of its children, timers and the outside, and what one capability tells the others. Every capability is
/// told every event and acts on those it understands.
enum LoopEvent: Sendable {
    // MARK: From children

    /// Something happened during a running attempt (not its end).
    case attemptUpdate(AttemptKey, AttemptUpdate)
    /// An attempt's session and gate are done.
    case attemptEnded(AttemptPlan, AttemptResult)
    /// A landing round's merged commit passed its regression verify; the target branch has not moved yet.
    case mergeVerified(MergeRound)
    /// A landing round ended: landed, or not.
    case mergeEnded(MergeRound)
    /// Something other than Flotilla had moved the target branch, and it was put back: the change records it.
    case targetRestored(LedgerChange)
    case pushEnded(PushAttempt)
    /// The ledger's approval records, read for decisions made by people (any process) since the last look.
    case approvalsRead([ApprovalRecord])
    /// The user's branches and tags as they are now; nil when they could not be read.
    case userRefsRead([String: String]?)
    /// The brief of a fixup for a candidate whose regression verify failed (nil when it could not be written).
    case fixupBriefed(MergeCandidate, Verification, brief: String?)
    /// The objective check's answer, with the call it took.
    case objectiveChecked(ObjectiveVerdict, ModelCall)
    /// The final verify of the target head ran.
    case finalVerified(Verification)
    /// The last decision recorded about the whole mission (`--approve final`, the objective check's proposal), if any.
    case missionDecisionRead(ApprovalDecision?)
    /// A child could not do its work, and Flotilla cannot go on (git, the disk, the ledger failed).
    case failed(String)

    // MARK: Timers and the outside

    case stopRequested
    case wallClockExpired
    /// The wait after a rate limit is over.
    case backoffEnded
    /// Time to look in the ledger for decisions about candidates that wait for a human.
    case approvalsDue
    /// Time to look in the ledger for a decision about the whole mission.
    case missionDecisionDue

    // MARK: Between capabilities

    /// Attempts of a group are about to start, as every capability shaped them.
    case dispatching(DispatchPlan)
    /// An attempt ended and no capability holds its result back (a best-of-N round does until all its candidates
    /// are in): act on its verdict.
    case attemptResult(AttemptPlan, AttemptResult)
    /// An attempt ends without landing.
    case conclude(AttemptKey, AttemptEnding)
    /// A candidate passed everything an attempt checks: it goes on to approval or straight to landing.
    case verified(MergeCandidate)
    /// A candidate joins the merge queue.
    case enqueue(MergeCandidate)
    /// Candidates landed: the target branch is at `head`.
    case landed([AttemptKey], head: String)
    /// A candidate's landing failed its regression verify, alone: it broke landed groups.
    case regressed(MergeCandidate, Verification)
    /// A group's candidate conflicted with landed work in these files.
    case conflicted(group: String, files: [String])
    /// Groups joined the running mission's checklist.
    case groupsAdded([ChecklistGroup])
    /// A model call of the mission's own (not an attempt's) was paid.
    case charged(Double)
    /// Every group landed and nothing is in flight: the mission's end begins.
    case allLanded
    /// The approval timeout's decision was recorded (a human's may have come first; then this never comes).
    case timedOut(AttemptKey?, ApprovalDecision)
}

/// How an attempt ends without landing, and what that does to its group.
struct AttemptEnding: Sendable {
    var outcome: AttemptOutcome
    var reason: String
    var feedback: String
    var criteria: CriteriaScore?
    /// The regression verify it failed, for ``AttemptOutcome/regression``.
    var verification: Verification?
    /// Its gate's typed criteria for the group, with their figures.
    var figures: [CriterionResult] = []
    /// Rate limits, interruptions and outranked candidates are no sign of a stalled group.
    var countsTowardsStall = true
    /// False while another candidate of its best-of-N round goes on: the group stays claimed.
    var release = true

    /// An attempt that neither failed nor landed: the mission stopped, or Flotilla could not go on.
    static func interrupted(_ reason: String) -> AttemptEnding {
        AttemptEnding(outcome: .interrupted, reason: reason, feedback: Feedback.interrupted(reason))
    }
}
