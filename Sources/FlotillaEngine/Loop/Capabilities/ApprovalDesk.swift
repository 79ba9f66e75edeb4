import FlotillaCore
import Foundation

/// `--approve landings`: verified candidates wait for a human before they join the merge queue; so does a candidate
/// held for its own reason (``MergeCandidate/held``) in any mode, and no timeout lands that one.
///
/// The decision is written to the ledger by whichever process a human used (CLI, API, dashboard, MCP); the desk looks
/// there while anything waits, and applies the approval timeout itself.
struct ApprovalDesk: LoopCapability {
    /// How often the ledger is read for decisions while a candidate waits.
    static let pollInterval: Duration = .milliseconds(250)

    /// A verified candidate waiting for a human, and since when.
    struct Waiting: Sendable {
        var candidate: MergeCandidate
        var since: Date
    }

    let mode: ApprovalMode
    var waiting: [AttemptKey: Waiting] = [:]
    /// A look at the ledger is due or under way.
    var looking = false

    var inFlight: Int { waiting.count }
    var heldGroups: [String] { waiting.keys.map(\.group) }

    mutating func tick(_ view: LoopView) -> [LoopAction] {
        guard !waiting.isEmpty, !looking, view.stopping == nil else { return [] }
        looking = true
        return [.after(Self.pollInterval, .approvalsDue)]
    }

    mutating func on(_ event: LoopEvent, _ view: LoopView) -> [LoopAction] {
        switch event {
        case .verified(let candidate):
            guard mode == .landings || candidate.held != nil else { return [.notify(.enqueue(candidate))] }
            waiting[candidate.key] = Waiting(candidate: candidate, since: view.now)
            return [.record(.approvalRequested(candidate.key, question: candidate.held))]
        case .approvalsDue:
            guard !waiting.isEmpty, view.stopping == nil else {
                looking = false
                return []
            }
            return [.spawn(ApprovalsRead(mission: view.spec.id))]
        case .approvalsRead(let records):
            looking = false
            return decide(records, view)
        case .timedOut(let key?, let decision):
            return apply(key, decision)
        default:
            return []
        }
    }

    /// The mission stops: what waits for a human ends.
    mutating func stop(_ reason: StopReason, _ view: LoopView) -> [LoopAction] {
        let keys = waiting.keys.sorted { $0.description < $1.description }
        waiting = [:]
        return keys.map { .conclude($0, .interrupted(Feedback.stopped(reason) + " while it waited for approval")) }
    }

    /// Applies the decisions people recorded, and the timeout to what waited too long.
    private mutating func decide(_ records: [ApprovalRecord], _ view: LoopView) -> [LoopAction] {
        var decisions: [AttemptKey: ApprovalDecision] = [:]
        for record in records {
            if let key = record.attempt, let decision = record.decision { decisions[key] = decision }
        }
        var actions: [LoopAction] = []
        for key in waiting.keys.sorted(by: { $0.description < $1.description }) {
            guard let candidate = waiting[key] else { continue }
            if let decision = decisions[key] {
                actions += apply(key, decision)
            } else if var made = view.spec.options.timeoutDecision(waitingSince: candidate.since, now: view.now) {
                if made.approved, let held = candidate.candidate.held {
                    // What was held for its own reason lands only by a person's yes.
                    made = ApprovalDecision(
                        approved: false,
                        reason: "no decision in time, and \(held): the timeout never lands it",
                        by: "timeout"
                    )
                }
                // A human may decide first; then the ledger refuses this, and theirs is read at the next look.
                actions.append(.recordUnlessRefused(.approvalDecided(key, made), then: .timedOut(key, made)))
            }
        }
        return actions
    }

    private mutating func apply(_ key: AttemptKey, _ decision: ApprovalDecision) -> [LoopAction] {
        guard let candidate = waiting.removeValue(forKey: key)?.candidate else { return [] }
        if decision.approved { return [.notify(.enqueue(candidate))] }
        let ending = AttemptEnding(
            outcome: .rejected,
            reason: "rejected before landing by \(decision.by)" + (decision.reason.map { ": \($0)" } ?? ""),
            feedback: Feedback.rejected(decision),
            criteria: candidate.criteria
        )
        return [.conclude(key, ending)]
    }
}

/// Reads the ledger's approval records of the mission.
struct ApprovalsRead: ChildWork {
    let mission: MissionID

    func run(in environment: LoopEnvironment, tell: @escaping @Sendable (LoopEvent) -> Void) async -> LoopEvent {
        // A read that fails is the same as no decision yet: the next look tries again.
        .approvalsRead((try? await environment.context.ledger.approvals(of: mission)) ?? [])
    }
}

extension ApprovalDesk {
    init(_ snapshot: MissionSnapshot) {
        var waiting: [AttemptKey: Waiting] = [:]
        for var candidate in snapshot.queued {
            guard let asked = snapshot.approvals.first(where: { $0.attempt == candidate.key }) else { continue }
            candidate.held = asked.hold
            waiting[candidate.key] = Waiting(candidate: candidate, since: asked.requestedAt)
        }
        self.init(mode: snapshot.spec.options.approvalMode, waiting: waiting)
    }
}
