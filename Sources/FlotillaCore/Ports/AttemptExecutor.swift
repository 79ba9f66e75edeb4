import Foundation

/// Runs attempts: one fresh agent session on one group in its own checkout, judged by the gate.
///
/// The loop hands an executor a plan and hears back what happens as it happens; it alone turns what it hears into
/// ledger changes, so an executor never touches the ledger. The local executor runs the attempt's steps in this
/// process; a scripted one answers from a script (fast tests of the loop); a remote one will run them on a worker.
///
/// The attempt runs in the calling task, which the loop cancels to stop it: a returned stream would need a producer
/// task of its own, outside the loop's structured children.
package protocol AttemptExecutor: Sendable {
    /// Runs the attempt `plan` describes; `update` is called with each thing that happened, in order; the result says
    /// how it ended and carries its evidence.
    func run(_ plan: AttemptPlan, update: @escaping @Sendable (AttemptUpdate) -> Void) async -> AttemptResult
}

/// What an attempt is to do: everything it needs beyond the mission itself.
package struct AttemptPlan: Sendable, Equatable, Codable {
    package var mission: MissionID
    package var key: AttemptKey
    /// The agent slot, which gives the attempt its checkouts.
    package var slot: Int
    package var startCommit: String
    package var prompt: String
    /// What this session may spend, when the mission is capped.
    package var budgetUSD: Double?

    package init(
        mission: MissionID,
        key: AttemptKey,
        slot: Int,
        startCommit: String,
        prompt: String,
        budgetUSD: Double? = nil
    ) {
        self.mission = mission
        self.key = key
        self.slot = slot
        self.startCommit = startCommit
        self.prompt = prompt
        self.budgetUSD = budgetUSD
    }
}

/// Something that happened during an attempt, for the ledger.
package enum AttemptUpdate: Sendable, Equatable, Codable {
    /// A model the attempt consulted (architect, reviewer, critic), answered or not.
    case modelCalled(ModelCall)
    case agentFinished(AgentReport)
    /// Edits to existing tests were taken back before the gate.
    case testEditsReverted([String])
    /// The gate decided without the test files the attempt added; they run when it lands.
    case newTestsDeferred([String])
    /// The session changed the agent tools' guarded settings, which were put back.
    case toolSettingsRestored([String])
    /// The agent's work was committed (`commit` nil when it changed nothing).
    case committed(commit: String?, diff: DiffStat?)
    /// The attempt's gate ran; `reviewFollows` when a passing gate waits for its review before the attempt may land.
    case gateFinished(Verification, reviewFollows: Bool)
    case reviewed(ReviewVerdict)
    case stepStarted(MissionEvent.StepStarted)
    case stepFinished(PipelineStepRecord)
    case stepChangesTakenBack(MissionEvent.StepChangesTakenBack)

    /// The ledger change that records it.
    package func change(for key: AttemptKey) -> LedgerChange {
        switch self {
        case .modelCalled(let call): .modelCalled(call)
        case .agentFinished(let report): .agentFinished(key, report)
        case .testEditsReverted(let paths): .testEditsReverted(key, paths: paths)
        case .newTestsDeferred(let paths): .newTestsDeferred(key, paths: paths)
        case .toolSettingsRestored(let paths): .toolSettingsRestored(key, paths: paths)
        case .committed(let commit, let diff): .attemptCommitted(key, commit: commit, diff: diff)
        case .gateFinished(let verification, let reviewFollows):
            .gateFinished(verification, reviewFollows: reviewFollows)
        case .reviewed(let verdict): .reviewed(key, verdict)
        case .stepStarted(let start): .stepStarted(key, start)
        case .stepFinished(let record): .stepFinished(key, record)
        case .stepChangesTakenBack(let taken): .stepChangesTakenBack(key, taken)
        }
    }

    /// The probe's checkpoint once it is recorded, where fault-injection tests stop Flotilla.
    package var checkpoint: String? {
        switch self {
        case .agentFinished: "agent.finished"
        case .committed: "attempt.committed"
        case .gateFinished: "gate.recorded"
        case .stepFinished: "step.finished"
        case .modelCalled, .testEditsReverted, .newTestsDeferred, .toolSettingsRestored, .reviewed, .stepStarted,
            .stepChangesTakenBack:
            nil
        }
    }
}

/// How an attempt ended, with what it leaves behind as evidence.
package struct AttemptResult: Sendable, Equatable, Codable {
    package var verdict: AttemptVerdict
    package var evidence: AttemptEvidence

    package init(_ verdict: AttemptVerdict, evidence: AttemptEvidence = AttemptEvidence()) {
        self.verdict = verdict
        self.evidence = evidence
    }
}

/// The end of an attempt, as the loop acts on it.
package enum AttemptVerdict: Sendable, Equatable, Codable {
    /// The gate passed (and the review, when one followed): the attempt may land as ``AttemptEvidence/commit``.
    case passed
    case failed(outcome: AttemptOutcome, reason: String, feedback: String)
    /// The agent hit a rate limit or quota: not the group's fault. Every agent waits, unless a fallback backend
    /// takes over (`holdDispatch` false).
    case rateLimited(reason: String, feedback: String, message: String, holdDispatch: Bool)
    /// The attempt was stopped while it ran.
    case cancelled
    /// Flotilla itself could not carry on (git or the file system failed).
    case error(String)
}

/// What an attempt leaves to judge and rank it by, so that nothing has to be read back.
package struct AttemptEvidence: Sendable, Equatable, Codable {
    /// The commit that was judged: the agent's work, or the start commit when it changed nothing; nil when the
    /// attempt ended before its gate.
    package var commit: String?
    /// What the gate's verify report showed passing of the group's criteria.
    package var criteria: CriteriaScore?
    /// What a review (`--review`) scored it, of 10.
    package var reviewScore: Int?
    /// Lines added and removed by the change that was judged.
    package var diffLines: Int
    /// What the agent and the models the attempt consulted cost.
    package var costUSD: Double
    /// Why a person must see it before it lands, whatever the mission's approvals (`--grader-reach hold`,
    /// `--hack-check`).
    package var held: String?
    /// How the gate judged the group's typed criteria, with Flotilla's own figures (a metric improving on its best
    /// is progress); nil without typed criteria or a gate.
    package var figures: [CriterionResult]?

    package init(
        commit: String? = nil,
        criteria: CriteriaScore? = nil,
        reviewScore: Int? = nil,
        diffLines: Int = 0,
        costUSD: Double = 0,
        held: String? = nil,
        figures: [CriterionResult]? = nil
    ) {
        self.commit = commit
        self.criteria = criteria
        self.reviewScore = reviewScore
        self.diffLines = diffLines
        self.costUSD = costUSD
        self.held = held
        self.figures = figures
    }
}
