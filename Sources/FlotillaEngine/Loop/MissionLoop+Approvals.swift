import FlotillaCore
import Foundation

/// `--approve landings`: verified candidates wait for a human before they join the merge queue.
///
/// The decision is written to the ledger by whichever process a human used (CLI, API, dashboard, MCP); the loop looks
/// there while anything waits, and applies the approval timeout itself.
extension MissionLoop {
    /// How often the loop reads the ledger for decisions while a candidate waits.
    static let approvalPollInterval: Duration = .milliseconds(250)

    /// A verified candidate: straight to the merge queue, or, with `--approve landings`, to a human first.
    mutating func verified(
        _ candidate: MergeCandidate,
        group: inout ThrowingTaskGroup<LoopSignal, any Error>
    ) async throws {
        guard spec.options.approvalMode == .landings else {
            queue.enqueue(candidate)
            context.probe?.mark(.queued(candidate.key))
            return
        }
        try await context.record(.approvalRequested(candidate.key), mission: spec.id)
        awaitingApproval[candidate.key] = AwaitingApproval(candidate: candidate, since: ports.now())
        scheduleApprovalCheck(&group)
    }

    /// Looks at the ledger again after ``approvalPollInterval``, unless a look is already due.
    mutating func scheduleApprovalCheck(_ group: inout ThrowingTaskGroup<LoopSignal, any Error>) {
        guard !awaitingApproval.isEmpty, !approvalCheckScheduled else { return }
        approvalCheckScheduled = true
        let clock = ports.clock
        group.addTask {
            try? await clock.sleep(for: Self.approvalPollInterval)
            return .approvalsDue
        }
    }

    /// Applies the decisions recorded since the last look, and the timeout to what waited too long.
    mutating func checkApprovals(_ group: inout ThrowingTaskGroup<LoopSignal, any Error>) async throws {
        approvalCheckScheduled = false
        guard !awaitingApproval.isEmpty else { return }
        let decided = try await context.ledger.approvals(of: spec.id)
        var decisions: [AttemptKey: ApprovalDecision] = [:]
        for record in decided {
            if let key = record.attempt, let decision = record.decision { decisions[key] = decision }
        }
        let now = ports.now()
        for key in awaitingApproval.keys.sorted(by: { $0.description < $1.description }) {
            guard let waiting = awaitingApproval[key] else { continue }
            var decision = decisions[key]
            if decision == nil, let timeout = spec.options.approvalTimeout,
                now.timeIntervalSince(waiting.since) >= timeout.seconds
            {
                let action = spec.options.approvalTimeoutAction ?? .reject
                let made = ApprovalDecision(
                    approved: action == .approve,
                    reason: "no decision within \(timeout.shortDescription); the timeout action is \(action.rawValue)",
                    by: "timeout"
                )
                do {
                    try await context.record(.approvalDecided(key, made), mission: spec.id)
                    decision = made
                } catch {
                    // A human decided in the meantime: their decision is read at the next look.
                    continue
                }
            }
            guard let decision else { continue }
            awaitingApproval[key] = nil
            if decision.approved {
                queue.enqueue(waiting.candidate)
                context.probe?.mark(.queued(key))
            } else {
                try await conclude(
                    key,
                    .rejected,
                    reason: "rejected before landing by \(decision.by)" + (decision.reason.map { ": \($0)" } ?? ""),
                    feedback: Feedback.rejected(decision),
                    criteriaPassed: waiting.candidate.criteriaPassed
                )
            }
        }
        scheduleApprovalCheck(&group)
    }
}

/// A verified candidate waiting for a human, and since when.
struct AwaitingApproval {
    var candidate: MergeCandidate
    var since: Date
}
