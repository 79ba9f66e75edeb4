import FlotillaCore
import Foundation

/// The end of a mission once every group landed: the objective check (`--objective-check`, which may add groups),
/// the final verify of the target head, and the human's approval of the whole (`--approve final`).
///
/// While it runs the loop dispatches nothing, and a stop ends the mission only while a human is asked.
struct Ending: LoopCapability {
    /// What the ending is doing.
    enum Phase: Sendable {
        case idle
        case checkingObjective
        /// The objective check proposed these groups, and a human decides (`--approve final`).
        case askingAboutGroups([ChecklistGroup], since: Date)
        case verifying
        /// The verified mission waits for a human (`--approve final`).
        case awaitingApproval(since: Date)
    }

    /// How many groups the objective check may add in all; nil without one.
    let objectiveLimit: Int?
    let approvalMode: ApprovalMode
    var phase = Phase.idle
    /// Groups the objective check has added.
    var added: Int
    /// The objective check said the goal is met, or a human declined its proposal: it is not asked again this run.
    var objectiveSettled = false
    /// Why a human rejected the finished mission.
    var rejection: String?
    /// A look at the ledger for the human's decision is due or under way.
    var looking = false

    var isActive: Bool {
        if case .idle = phase { return false }
        return true
    }

    var inFlight: Int { isActive ? 1 : 0 }

    mutating func on(_ event: LoopEvent, _ view: LoopView) -> [LoopAction] {
        switch event {
        case .allLanded:
            guard !isActive else { return [] }
            if let limit = objectiveLimit, !objectiveSettled, added < limit {
                phase = .checkingObjective
                return [.spawn(ObjectiveCheckWork(spec: view.spec, head: view.targetHead, limit: limit - added))]
            }
            return verify(view)
        case .objectiveChecked(let verdict, let call):
            return objectiveChecked(verdict, call, view)
        case .finalVerified(let verification):
            var actions: [LoopAction] = [.record(.finalVerifyFinished(verification), checkpoint: "final.verified")]
            guard verification.passed else { return actions + [.finish(.failed)] }
            guard approvalMode == .final else { return actions + [.finish(.completed)] }
            phase = .awaitingApproval(since: view.now)
            actions.append(.record(.approvalRequested(nil)))
            return actions + readNow(view)
        case .missionDecisionDue:
            return [.spawn(MissionDecisionRead(mission: view.spec.id))]
        case .missionDecisionRead(let decision):
            looking = false
            if let decision { return apply(decision, view) }
            let since: Date
            switch phase {
            case .askingAboutGroups(_, let asked), .awaitingApproval(let asked): since = asked
            default: return []
            }
            if let made = view.spec.options.timeoutDecision(waitingSince: since, now: view.now) {
                // A human may decide first; then the ledger refuses this, and theirs is read at the next look.
                return [.recordUnlessRefused(.approvalDecided(nil, made), then: .timedOut(nil, made))] + look(view)
            }
            return look(view)
        case .timedOut(nil, let decision):
            return apply(decision, view)
        case .stopRequested:
            switch phase {
            case .askingAboutGroups, .awaitingApproval: return [.finish(.stopped)]
            default: return []
            }
        default:
            return []
        }
    }

    private mutating func verify(_ view: LoopView) -> [LoopAction] {
        phase = .verifying
        return [.spawn(FinalVerify(spec: view.spec, head: view.targetHead))]
    }

    /// Reads the human's decision from the ledger at once: it may already be there.
    private mutating func readNow(_ view: LoopView) -> [LoopAction] {
        looking = true
        return [.spawn(MissionDecisionRead(mission: view.spec.id))]
    }

    /// Looks at the ledger for the human's decision again after the poll interval.
    private mutating func look(_ view: LoopView) -> [LoopAction] {
        guard !looking else { return [] }
        looking = true
        return [.after(ApprovalDesk.pollInterval, .missionDecisionDue)]
    }

    private mutating func objectiveChecked(
        _ verdict: ObjectiveVerdict,
        _ call: ModelCall,
        _ view: LoopView
    ) -> [LoopAction] {
        let proposes = verdict.met == false && !verdict.proposed.isEmpty
        let putToHuman = proposes && approvalMode == .final
        var actions: [LoopAction] = [
            .record(.modelCalled(call)), .notify(.charged(call.usage.costUSD)),
            .record(.objectiveChecked(verdict, putToHuman: putToHuman)),
        ]
        guard proposes else {
            objectiveSettled = true
            return actions + verify(view)
        }
        guard putToHuman else { return actions + add(verdict.proposed, view) }
        let titles = verdict.proposed.map { "\($0.id) (\($0.title))" }.joined(separator: ", ")
        phase = .askingAboutGroups(verdict.proposed, since: view.now)
        actions.append(
            .record(.approvalRequested(nil, question: "the objective check's proposal to add \(titles)"))
        )
        return actions + readNow(view)
    }

    private mutating func apply(_ decision: ApprovalDecision, _ view: LoopView) -> [LoopAction] {
        switch phase {
        case .askingAboutGroups(let groups, _):
            guard decision.approved else {
                objectiveSettled = true
                return verify(view)
            }
            return add(groups, view)
        case .awaitingApproval:
            guard !decision.approved else { return [.finish(.completed)] }
            rejection = "rejected by \(decision.by)" + (decision.reason.map { ": \($0)" } ?? "")
            return [.finish(.stopped)]
        default:
            return []
        }
    }

    /// Adds groups to the running mission: the ledger first (they survive a crash), then the loop's checklist; the
    /// scheduling capability takes them from there.
    private mutating func add(_ groups: [ChecklistGroup], _ view: LoopView) -> [LoopAction] {
        var checklist = view.spec.checklist
        checklist.groups += groups
        added += groups.count
        phase = .idle
        return [
            .record(.groupsAdded(groups, checklist: checklist, by: "objective check")),
            .replaceChecklist(checklist), .notify(.groupsAdded(groups)),
        ]
    }
}

/// Asks the objective check's model whether the goal is met, from the whole change.
struct ObjectiveCheckWork: ChildWork {
    let spec: MissionSpec
    let head: String
    let limit: Int

    func run(in environment: LoopEnvironment, tell: @escaping @Sendable (LoopEvent) -> Void) async -> LoopEvent {
        let context = environment.context
        guard let objective = context.objective else { return .failed("no objective check is configured") }
        let diff = (try? await context.git.diff(from: spec.baseCommit, to: head)) ?? ""
        let (verdict, call) = await objective.check(
            goal: spec.goal,
            checklist: spec.checklist,
            diff: diff,
            limit: limit
        )
        return .objectiveChecked(verdict, call)
    }
}

/// The final full verify, on a clean checkout of the target head (put back first if anything moved it).
struct FinalVerify: ChildWork {
    let spec: MissionSpec
    let head: String

    func run(in environment: LoopEnvironment, tell: @escaping @Sendable (LoopEvent) -> Void) async -> LoopEvent {
        let context = environment.context
        do {
            if let restored = try await TargetGuard(spec: spec, git: context.git)
                .ensure(at: head, reason: "before the final verify")
            {
                tell(.targetRestored(restored))
            }
            let staging = context.layout.stagingWorktree(spec.id)
            try await context.checkout(head, into: staging, mission: spec.id, judging: true)
            let verification = try await context.gate.verify(
                kind: .final,
                attempt: nil,
                commit: head,
                in: staging,
                groups: spec.checklist.groupIDs,
                logPath: context.layout.finalVerifyLog(spec.id)
            )
            return .finalVerified(verification)
        } catch {
            return .failed("\(error)")
        }
    }
}

/// Reads the last decision recorded about the whole mission.
struct MissionDecisionRead: ChildWork {
    let mission: MissionID

    func run(in environment: LoopEnvironment, tell: @escaping @Sendable (LoopEvent) -> Void) async -> LoopEvent {
        let asked = try? await environment.context.ledger.approvals(of: mission).last { $0.attempt == nil }
        return .missionDecisionRead(asked?.decision)
    }
}

extension Ending {
    init(_ snapshot: MissionSnapshot) {
        self.init(
            objectiveLimit: snapshot.objectiveCheck ? snapshot.spec.options.objectiveGroupLimit : nil,
            approvalMode: snapshot.spec.options.approvalMode,
            added: snapshot.groups.filter { $0.addedBy != nil }.count
        )
    }
}
