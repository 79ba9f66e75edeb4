import FlotillaCore
import Foundation

/// `--push REMOTE`: the target branch goes to the remote after each landing (one push at a time, beside the loop)
/// and once more at the end, each with a lease on what Flotilla pushed last. With `--approve final` only the end
/// pushes, once a human approved.
extension MissionLoop {
    /// After a landing: pushes the new head, or notes that another push is due when the one under way ends.
    mutating func pushLanded(_ group: inout ThrowingTaskGroup<LoopSignal, any Error>) {
        guard let remote = spec.options.push, spec.options.approvalMode != .final, pushRefused == nil else { return }
        guard !pushing else {
            pushAgain = true
            return
        }
        let attempt = PushAttempt(remote: remote, branch: spec.targetBranch, commit: targetHead, expected: lastPushed)
        pushing = true
        let git = context.git
        // Not cancelled with the loop's tasks: a push cut off half-way would leave the lease's record wrong.
        group.addTask { .pushEnded(await Task.detached { await Self.push(attempt, git: git) }.value) }
    }

    /// Records a push that ended, and starts the next if the head moved meanwhile.
    mutating func pushEnded(
        _ attempt: PushAttempt,
        _ group: inout ThrowingTaskGroup<LoopSignal, any Error>
    ) async throws {
        pushing = false
        try await recordPush(attempt)
        if pushAgain {
            pushAgain = false
            if lastPushed != targetHead { pushLanded(&group) }
        }
    }

    /// At the end: whatever landed and was not pushed yet goes now.
    mutating func finalPush(_ reason: StopReason) async throws {
        guard let remote = spec.options.push, pushRefused == nil, lastPushed != targetHead,
            targetHead != spec.baseCommit, reason == .completed || spec.options.approvalMode != .final
        else { return }
        let attempt = PushAttempt(remote: remote, branch: spec.targetBranch, commit: targetHead, expected: lastPushed)
        try await recordPush(await Self.push(attempt, git: context.git))
    }

    mutating func recordPush(_ attempt: PushAttempt) async throws {
        try await context.record(.pushed(attempt), mission: spec.id)
        if let refusal = attempt.refusal {
            pushRefused = refusal
        } else {
            lastPushed = attempt.commit
        }
    }

    /// Where a previous run left the remote: the commit of the last push that went through.
    static func lastPush(of mission: MissionID, ledger: any MissionLedger) async throws -> String? {
        var last: String?
        var after: Int64 = 0
        while true {
            let batch = try await ledger.events(of: mission, after: after, limit: 5000)
            for event in batch where event.kind == .branchPushed { last = event.data["commit"]?.stringValue }
            guard let end = batch.last?.id, batch.count == 5000 else { return last }
            after = end
        }
    }

    private static func push(_ attempt: PushAttempt, git: any GitRepository) async -> PushAttempt {
        var attempt = attempt
        do {
            if case .refused(let said) = try await git.push(
                attempt.commit,
                to: attempt.remote,
                branch: attempt.branch,
                expecting: attempt.expected
            ) {
                attempt.refusal = said.isEmpty ? "the remote refused" : said
            }
        } catch {
            attempt.refusal = "\(error)"
        }
        return attempt
    }
}
