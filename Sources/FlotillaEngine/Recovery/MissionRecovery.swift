import FlotillaCore
import Foundation

/// Puts a mission that a crash (or a stop) interrupted back in order before it runs again.
///
/// - Children the last run left running are ended (their process groups), and its worktrees removed.
/// - A landing caught between its verify and the target branch moving is completed if the branch moved to the
///   verified commit, and otherwise rolled back: its candidates go back to the merge queue.
/// - Attempts caught with their agent or gate running are interrupted; attempts whose gate passed (and review, with
///   `--review`) stay queued.
/// - The target branch must be at the base or at a commit Flotilla verified; anything else stops the resume.
///
/// Each step is safe to repeat, so a crash during recovery is recovered by the next resume.
struct MissionRecovery {
    let context: ControlContext
    let processTable: (any ProcessTable)?

    /// Refuses to touch a mission that another live process runs.
    func ensureNotRunningElsewhere(_ record: MissionRecord) throws {
        if record.state == .running, let runner = record.runner, runner != processTable?.current(),
            processTable?.isRunning(runner) == true
        {
            throw FlotillaError.conflict(
                "mission \(record.spec.id) is running in process \(runner.pid); follow it with `flotilla attach \(record.spec.id)` "
                    + "or stop it with `flotilla stop \(record.spec.id)`"
            )
        }
    }

    /// Reconciles the mission; returns what it did, for people.
    func reconcile(_ record: MissionRecord) async throws -> [String] {
        let spec = record.spec
        let id = spec.id
        context.probe?.mark(.checkpoint("recovery.started"))
        var actions: [String] = []

        if let processTable {
            // The process groups the last run recorded, then anything else of the mission that still runs (a daemon
            // that left its group, when there was no sandbox to end it).
            let groups = await processTable.reap(recordedIn: context.layout.processesDirectory(id), grace: .seconds(5))
            let strays = await processTable.end(carrying: "FLOTILLA_MISSION=\(id)", grace: .seconds(5))
            let ended = groups.map(\.pid) + strays
            if !ended.isEmpty {
                actions.append(
                    "ended \(ended.count) process\(ended.count == 1 ? "" : "es") the last run left running "
                        + "(\(ended.map(String.init).joined(separator: ", ")))"
                )
            }
        }
        let removed = await MissionCheckouts(git: context.git, layout: context.layout).removeAll(id)
        if removed > 0 { actions.append("removed \(removed) checkout\(removed == 1 ? "" : "s")") }

        let head = try await context.git.resolveCommit("refs/heads/\(spec.targetBranch)")

        // Landings caught in the middle.
        let unfinished = Set(try await context.ledger.attempts(of: id).filter { $0.outcome == nil }.map(\.key))
        let merges = try await context.ledger.merges(of: id).filter {
            $0.state == .pending && unfinished.contains($0.attempt)
        }
        var completed: [String: [MergeRecord]] = [:]
        var rolledBack: [AttemptKey] = []
        for merge in merges {
            if let commit = merge.mergedCommit, merge.verification != nil, commit == head {
                completed[commit, default: []].append(merge)
            } else {
                rolledBack.append(merge.attempt)
            }
        }
        for (commit, landing) in completed {
            guard let verification = landing.first?.verification else { continue }
            let keys = landing.map(\.attempt)
            try await context.record(
                .attemptsLanded(keys, landedCommit: commit, regression: verification),
                mission: id
            )
            actions.append("completed the landing of \(keys.list) as \(commit.shortSHA): the branch had moved to it")
        }
        if !rolledBack.isEmpty {
            try await context.record(
                .mergeRequeued(
                    rolledBack,
                    reason: "their landing was interrupted before the target branch moved",
                    verification: nil
                ),
                mission: id
            )
            actions.append("put \(rolledBack.list) back in the merge queue: their landing had not moved the branch")
        }

        // The branch is where Flotilla's last landing put it, whoever moved it while no run watched.
        let landed = try await context.ledger.attempts(of: id).filter { $0.outcome == .landed }
        let expected =
            landed.max { ($0.finishedAt ?? .distantPast) < ($1.finishedAt ?? .distantPast) }?.landedCommit
            ?? spec.baseCommit
        if head != expected {
            if let restored = try await TargetGuard(spec: spec, git: context.git).ensure(
                at: expected,
                reason: "on resume"
            ) {
                try await context.record(restored, mission: id)
            }
            actions.append("put the target branch back at \(expected.shortSHA), where Flotilla's last landing left it")
        }

        // Attempts caught with their agent or gate running cannot be trusted: interrupt them.
        let attempts = try await context.ledger.attempts(of: id)
        let interrupted = attempts.filter { $0.outcome == nil && ($0.phase == .agent || $0.phase == .gate) }
        // A best-of-N candidate whose gate passed keeps its group claimed while its siblings are interrupted.
        let stillQueued = Set(attempts.filter { $0.outcome == nil && $0.phase == .queued }.map(\.key.group))
        for attempt in interrupted {
            try await context.record(
                .attemptFailed(
                    AttemptConclusion(
                        key: attempt.key,
                        outcome: .interrupted,
                        reason: "Flotilla stopped while it ran (recovered on resume)",
                        feedback: "This attempt was interrupted when Flotilla itself stopped; it says nothing about "
                            + "your approach.",
                        stall: nil,
                        groupStatus: stillQueued.contains(attempt.key.group) ? .active : .pending
                    )
                ),
                mission: id
            )
            // A pipeline's run goes on in the group's next attempt from the steps it finished.
            PipelineFiles.markInterrupted(context.layout.pipelineDirectory(id, attempt.key))
        }
        if !interrupted.isEmpty {
            actions.append("interrupted \(interrupted.map(\.key).list), caught running")
        }
        return actions
    }
}
