import FlotillaCore
import Foundation

/// One step of an attempt: it reads and adds to the attempt's state, then lets the next step run or ends the attempt.
///
/// Steps report what happened through the environment's `update` (the loop records it) and never touch the ledger.
/// A new kind of check is a new step in ``AttemptPipeline/standard``, not an edit of the others.
protocol AttemptStep: Sendable {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome
}

/// What a step decided.
enum StepOutcome: Sendable, Equatable {
    case next
    case end(AttemptVerdict)
}

/// What an attempt's steps share: the mission, the ports, and where to report what happened.
struct AttemptEnvironment: Sendable {
    let mission: MissionSpec
    let context: EngineContext
    let update: @Sendable (AttemptUpdate) -> Void

    var layout: MissionLayout { context.layout }
    var git: any GitRepository { context.git }
}

/// An attempt as its steps build it up.
struct AttemptState: Sendable {
    let plan: AttemptPlan
    /// The prompt the agent gets (an architect's plan is added to the loop's).
    var prompt: String
    /// The agent's checkout: the slot's.
    let worktree: String
    /// What the agent and the models the attempt consulted cost so far.
    var costUSD: Double = 0
    /// How the agent's session ended.
    var session: AgentOutcome?
    /// The message of the attempt's commit.
    var message = ""
    /// The commit being judged: the agent's files, less what the attempt may not change; nil when it changed nothing.
    var commit: String?
    /// What that commit changes, from the start commit.
    var changes: (paths: [String], stat: DiffStat)?
    /// Existing tests whose edits were taken back.
    var revertedTests: [String] = []
    var verification: Verification?
    var reviewScore: Int?
    /// Why a person must see it before it lands, if it passes.
    var held: String?

    init(plan: AttemptPlan, worktree: String) {
        self.plan = plan
        self.prompt = plan.prompt
        self.worktree = worktree
    }

    var key: AttemptKey { plan.key }

    /// The commit the gate judges: the agent's, or the start when it changed nothing.
    var judged: String { commit ?? plan.startCommit }

    /// Pays for a model the attempt consulted (its cost is the attempt's) and tells the call, for its ledger row.
    mutating func pay(_ call: ModelCall, _ environment: AttemptEnvironment) {
        costUSD += call.usage.costUSD
        environment.update(.modelCalled(call))
    }

    /// What the attempt leaves behind, for the loop to land and rank it by.
    var evidence: AttemptEvidence {
        AttemptEvidence(
            commit: verification?.commit,
            criteria: verification?.criteria(in: key.group),
            reviewScore: reviewScore,
            diffLines: changes.map { $0.stat.insertions + $0.stat.deletions } ?? 0,
            costUSD: costUSD,
            held: held,
            figures: verification.map { $0.criterionResults.filter { $0.group == key.group } }.flatMap {
                $0.isEmpty ? nil : $0
            }
        )
    }
}

/// Runs an attempt's steps in order until one ends it; a pipeline that runs out of steps passed.
struct AttemptPipeline: Sendable {
    let steps: [any AttemptStep]

    /// Every attempt today: checkout, architect, session, a dispute, snapshot, the caps on its size, its changes,
    /// test-edit guard, commit, protected paths, the grader guard, gate, review, hack check, explanation.
    static let standard = AttemptPipeline(steps: [
        CheckoutStep(), ArchitectStep(), SessionStep(), DisputeStep(), SnapshotStep(), AdditionCapStep(), ChangesStep(),
        TestEditGuardStep(), CommitStep(), ProtectedPathsStep(), GraderGuardStep(), GateStep(), ReviewStep(),
        HackCheckStep(), ExplainStep(),
    ])

    /// The same steps with the agent's one session replaced by `step` (a pipeline's steps).
    func replacingSession(with step: any AttemptStep) -> AttemptPipeline {
        AttemptPipeline(steps: steps.map { $0 is SessionStep ? step : $0 })
    }

    func run(_ plan: AttemptPlan, in environment: AttemptEnvironment) async -> AttemptResult {
        var state = AttemptState(plan: plan, worktree: environment.layout.slotWorktree(plan.mission, plan.slot))
        do {
            for step in steps {
                if case .end(let verdict) = try await step.run(&state, in: environment) {
                    return AttemptResult(verdict, evidence: state.evidence)
                }
            }
            return AttemptResult(.passed, evidence: state.evidence)
        } catch {
            let verdict: AttemptVerdict =
                Task.isCancelled || error is CancellationError ? .cancelled : .error("attempt \(plan.key): \(error)")
            return AttemptResult(verdict, evidence: state.evidence)
        }
    }
}

/// The executor of this process: each attempt runs the standard pipeline here, confined as the mission says.
struct LocalAttemptExecutor: AttemptExecutor {
    let mission: MissionSpec
    let context: EngineContext
    var pipeline = AttemptPipeline.standard

    func run(_ plan: AttemptPlan, update: @escaping @Sendable (AttemptUpdate) -> Void) async -> AttemptResult {
        // A group that runs a pipeline runs its steps where the one session would run.
        let steps = mission.pipeline(of: plan.key.group).map {
            pipeline.replacingSession(with: PipelineStepsStep(pipeline: $0))
        }
        return await (steps ?? pipeline).run(
            plan,
            in: AttemptEnvironment(mission: mission, context: context, update: update)
        )
    }
}
