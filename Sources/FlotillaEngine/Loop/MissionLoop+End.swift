import FlotillaCore
import Foundation

/// The end: the staging checkout, the final verify, the summary and the clean-up.
extension MissionLoop {
    func prepareStaging() async throws {
        let staging = context.layout.stagingWorktree(spec.id)
        try await context.checkout(targetHead, into: staging, mission: spec.id)
    }

    mutating func finalVerify() async throws -> StopReason {
        try await guardTarget("before the final verify")
        let staging = context.layout.stagingWorktree(spec.id)
        try await context.checkout(targetHead, into: staging, mission: spec.id)
        let verification = try await context.gate.verify(
            kind: .final,
            attempt: nil,
            commit: targetHead,
            in: staging,
            groups: spec.checklist.groupIDs,
            logPath: context.layout.finalVerifyLog(spec.id)
        )
        try await context.record(.finalVerifyFinished(verification), mission: spec.id)
        context.probe?.mark(.checkpoint("final.verified"))
        guard verification.passed else { return .failed }
        return spec.options.approvalMode == .final ? try await awaitFinalApproval() : .completed
    }

    /// `--approve final`: the verified mission waits for a human (or the timeout) before it is completed; a rejection
    /// ends it as stopped, its landed work kept.
    mutating func awaitFinalApproval() async throws -> StopReason {
        guard let decision = try await awaitMissionDecision() else { return .stopped }
        guard !decision.approved else { return .completed }
        finalRejection = "rejected by \(decision.by)" + (decision.reason.map { ": \($0)" } ?? "")
        return .stopped
    }

    /// Asks a human about the whole mission and waits for the decision (or the approval timeout's); nil when the
    /// mission is stopped meanwhile.
    func awaitMissionDecision(_ question: String? = nil) async throws -> ApprovalDecision? {
        try await context.record(.approvalRequested(nil, question: question), mission: spec.id)
        let since = ports.now()
        while true {
            let asked = try await context.ledger.approvals(of: spec.id).last { $0.attempt == nil }
            if let decision = asked?.decision { return decision }
            if let timeout = spec.options.approvalTimeout, ports.now().timeIntervalSince(since) >= timeout.seconds {
                let action = spec.options.approvalTimeoutAction ?? .reject
                let made = ApprovalDecision(
                    approved: action == .approve,
                    reason: "no decision within \(timeout.shortDescription); the timeout action is \(action.rawValue)",
                    by: "timeout"
                )
                // A human may have decided meanwhile: then theirs is read on the next turn.
                if (try? await context.record(.approvalDecided(nil, made), mission: spec.id)) != nil { return made }
            }
            if await stopSignal?.wait(timeout: Self.approvalPollInterval) == true { return nil }
        }
    }

    func summarize(_ reason: StopReason, elapsed: Duration) async throws -> String {
        let attempts = try await context.ledger.attempts(of: spec.id)
        let done = progress.count(.done)
        let failed = attempts.filter { $0.outcome != nil && $0.outcome != .landed }
        var parts = [
            "\(done)/\(progress.groups.count) groups landed",
            "\(attempts.count) attempt\(attempts.count == 1 ? "" : "s")",
        ]
        if !failed.isEmpty {
            let counts = Dictionary(grouping: failed, by: { $0.outcome?.rawValue ?? "?" }).mapValues(\.count)
            parts.append(
                "\(failed.count) not landed ("
                    + counts.keys.sorted().map { "\(counts[$0] ?? 0) \($0)" }.joined(separator: ", ") + ")"
            )
        }
        parts.append(formatUSD(spentUSD))
        parts.append(elapsed.shortDescription)
        let blocked = progress.groups.filter { $0.status == .blocked }.map(\.id)
        if !blocked.isEmpty { parts.append("blocked: \(blocked.joined(separator: ", "))") }
        if let fatal { parts.append("error: \(fatal)") }
        if let finalRejection { parts.append(finalRejection) }
        if let tripped { parts.append(tripped.detail) }
        return parts.joined(separator: ", ")
    }

    /// Removes the mission's checkouts and attempt branches; the target branch stays.
    func cleanUp() async {
        // Processes first: nothing may still be writing into the checkouts being removed.
        if let processTable = ports.processTable {
            _ = await processTable.reap(recordedIn: context.layout.processesDirectory(spec.id), grace: .seconds(2))
            _ = await processTable.end(carrying: "FLOTILLA_MISSION=\(spec.id)", grace: .seconds(2))
        }
        _ = await MissionCheckouts(git: context.git, layout: context.layout).removeAll(spec.id)
        let git = context.git
        guard spec.options.keepBranches != true else { return }
        let attempts = (try? await context.ledger.attempts(of: spec.id)) ?? []
        try? await git.deleteBranches(attempts.map(\.branch))
    }
}
