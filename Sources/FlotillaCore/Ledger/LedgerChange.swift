import Foundation

/// One state change of a mission.
///
/// The ledger applies each in one transaction together with its event (``LedgerChange/event(mission:at:)``), so the
/// ledger and the event stream never disagree.
package enum LedgerChange: Sendable, Equatable {
    case missionCreated(MissionSpec)
    /// A run of the mission starts (the first, or a resume) in the `runner` process, with its sandbox (and, when it is
    /// not what was asked for, why).
    case missionStarted(agents: Int, backend: String, runner: ProcessIdentity?, resumed: Bool, sandbox: String? = nil)
    case attemptStarted(AttemptStart)
    case agentFinished(AttemptKey, AgentReport)
    /// The agent's work was committed in its worktree (`commit` is nil when it changed nothing).
    case attemptCommitted(AttemptKey, commit: String?, diff: DiffStat?)
    /// The attempt's own gate ran; when it passed the attempt waits in the merge queue, or, when a review follows
    /// (`--review`), for the review: a crash before it leaves the attempt to be interrupted, never landed unreviewed.
    case gateFinished(Verification, reviewFollows: Bool = false)
    /// A landing round starts for these candidates.
    case mergeStarted([AttemptKey], targetHead: String)
    /// The merged commit of these candidates passed its regression verify; the target branch moves to it next.
    /// Recorded before the move, so that the branch never points at a commit without a recorded verification.
    case landingVerified([AttemptKey], commit: String, regression: Verification)
    /// The merged commit passed its regression verify and the target branch moved to it; several attempts
    /// land together when they were verified together.
    case attemptsLanded([AttemptKey], landedCommit: String, regression: Verification)
    /// Candidates go back to the merge queue without landing: they conflicted only with others of their round,
    /// or their round's verify failed and they are tried apart (`verification` is that failed verify).
    case mergeRequeued([AttemptKey], reason: String, verification: Verification?)
    case attemptFailed(AttemptConclusion)
    case breakerTripped(BreakerTrip)
    /// A human released blocked groups: they are pending again, their stall counts reset.
    case groupsApproved([String])
    /// A resume found the mission as a crash or a stop left it and put it in order; `actions` says what it did.
    case recovered(actions: [String])
    case finalVerifyFinished(Verification)
    case missionFinished(StopReason, summary: String)
    /// A planner or critic call to a language model, answered or not.
    case modelCalled(ModelCall)
    /// Refs Flotilla guards (the target branch; the user's branches, without a sandbox) were found moved by someone
    /// else and put back; the foreign commits stay reachable under `refs/flotilla/quarantine/`.
    case refsRestored([RefRestoration], reason: String)
    /// Edits the attempt made to existing tests were taken back before its gate; it is judged, and lands, without
    /// them.
    case testEditsReverted(AttemptKey, paths: [String])
    /// The attempt's gate decided without the test files it added (a test module could patch the code under test, or
    /// the runner, when imported); they run in the regression verify of its landing.
    case newTestsDeferred(AttemptKey, paths: [String])
    /// The attempt's session changed the guarded parts of the agent CLIs' settings (``ToolSettings``): put back.
    case toolSettingsRestored(AttemptKey, paths: [String])
    /// A daemon at its `--max-running` holds the new mission until one ends; `ahead` wait before it.
    case missionQueued(ahead: Int, maxRunning: Int)
    /// Its turn came: the daemon starts it.
    case missionDequeued(waitedSeconds: Double)
    /// A try of a pipeline's step starts.
    case stepStarted(AttemptKey, MissionEvent.StepStarted)
    /// A try of a pipeline's step ended (its `result.json`).
    case stepFinished(AttemptKey, PipelineStepRecord)
    /// Changes a step was not to make were taken back.
    case stepChangesTakenBack(AttemptKey, MissionEvent.StepChangesTakenBack)
    /// The user's branches or tags moved while agents ran without a sandbox: reported, not undone, since Flotilla
    /// cannot tell the user's own commits from an agent's there.
    case refsMoved([RefMove], during: [AttemptKey])
    /// What the verify command's tests did at the base commit, against which every run of it is judged.
    case testsBaseline(TestBaseline)
    /// The probes' figures at the base commit, for `base * k` targets: measured once, before the first attempt.
    case probesBaseline([String: Double])
    /// `flotilla check` verified and measured a commit; nothing of the mission changed.
    case criteriaChecked(Verification)
    /// `flotilla step`: `attempts` more, then a pause once `pauseAfter` have started in all.
    case stepAllowed(attempts: Int, pauseAfter: Int)
    /// The mission's process died without finishing it, and the daemon's supervisor noticed (and restarts it, or
    /// gave up).
    case crashNoticed(CrashNotice)
    /// A reviewer scored a verified attempt (`--review`); in block mode a low score sends it back.
    case reviewed(AttemptKey, ReviewVerdict)
    /// A verified candidate (`attempt`), or the finished mission (nil), waits for a human (`--approve`).
    /// `question` says what the human decides when it is not the landing or the finished mission (the objective
    /// check's proposed groups).
    case approvalRequested(AttemptKey?, question: String? = nil)
    /// A human, or the approval timeout, decided about what waited; recorded by whichever process decided, once.
    case approvalDecided(AttemptKey?, ApprovalDecision)
    /// The target branch was pushed to a remote (`--push`), or the push was refused.
    case pushed(PushAttempt)
    /// `flotilla land`: the verified result was brought onto a branch of the user's, or refused.
    case landedOnto(LandingOnto)
    /// A try at delivering a notification from the outbox: delivered, or failed (and retried later, or given up).
    case notificationTried(NotificationTry)
    /// Every group had landed and a model judged the goal (`--objective-check`); with `putToHuman` its proposed groups
    /// wait for a human (`--approve final`) instead of being added.
    case objectiveChecked(ObjectiveVerdict, putToHuman: Bool)
    /// Groups were added to the running mission's checklist (`checklist` is the whole new one), by `by`.
    case groupsAdded([ChecklistGroup], checklist: Checklist, by: String)
    /// The candidates of a best-of-N round, best first: the first lands, the others lost for the reason each gives.
    case speculationRanked(group: String, [SpeculationCandidate])
}
