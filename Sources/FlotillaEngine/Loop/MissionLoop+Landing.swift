import FlotillaCore
import Foundation

/// Landing: one round at a time, in the order the merge queue gives.
extension MissionLoop {
    /// Starts the next landing round the queue gives, if none is landing.
    mutating func startNextMerge(_ group: inout ThrowingTaskGroup<LoopSignal, any Error>) async throws {
        guard fatal == nil, !stopRequested, let batch = queue.nextRound() else { return }
        let keys = batch.map(\.key)
        try await context.record(.mergeStarted(keys, targetHead: targetHead), mission: spec.id)
        context.probe?.mark(.checkpoint("merge.started"))
        let execution = MergeExecution(
            mission: spec,
            candidates: batch,
            head: targetHead,
            headTree: targetTree,
            landedGroups: progress.doneIDs,
            context: context
        )
        context.probe?.mark(.mergeStarting(keys))
        group.addTask { .mergeEnded(await AttemptContext.$current.withValue(keys) { await execution.run() }) }
    }

    /// Records what a landing round did: landings, conflicts, candidates to try again, and failures.
    mutating func finish(_ round: MergeRound) async throws {
        for (candidate, files, messages) in round.conflicts {
            footprints?.learn(candidate.key.group, touched: files)
            try await conclude(
                candidate.key,
                .conflict,
                reason: "conflicts with landed work in \(files.joined(separator: ", "))",
                feedback: Feedback.conflict(files: files, messages: messages),
                criteriaPassed: candidate.criteriaPassed
            )
        }
        if !round.deferred.isEmpty {
            try await context.record(
                .mergeRequeued(
                    round.deferred.map(\.key),
                    reason: "conflicts with another candidate of the same landing; tries again in the next one",
                    verification: nil
                ),
                mission: spec.id
            )
            queue.putBack(round.deferred)
        }
        let keys = round.included.map(\.key)
        switch round.outcome {
        case .nothingToLand:
            queue.finish(.landed)
        case .landed(let commit, let tree, let regression):
            queue.finish(.landed)
            try await context.record(
                .attemptsLanded(keys, landedCommit: commit, regression: regression),
                mission: spec.id
            )
            context.probe?.mark(.checkpoint("merge.landed"))
            targetHead = commit
            targetTree = tree
            for key in keys {
                let ready = progress.markDone(key.group)
                context.probe?.mark(.ready(ready))
                context.probe?.mark(.concluded(key))
            }
        case .regression(let verification):
            guard let candidate = queue.finish(.failed(included: round.included)) else {
                // Bisect: the halves are tried apart, until the candidate that breaks things is alone.
                try await context.record(
                    .mergeRequeued(
                        keys,
                        reason: "their landing failed its regression verify (\(Feedback.headline(verification))); "
                            + "trying them apart",
                        verification: verification
                    ),
                    mission: spec.id
                )
                return
            }
            let fixup = try await prepareFixup(candidate, verification)
            try await conclude(
                candidate.key,
                .regression,
                reason: "breaks landed groups: regression verify of \(verification.commit.shortSHA) failed, "
                    + Feedback.headline(verification)
                    + (fixup == nil ? "" : "; the next attempt is a fixup from \(verification.commit.shortSHA)"),
                feedback: fixup ?? Feedback.regression(verification),
                criteriaPassed: candidate.criteriaPassed,
                verification: verification
            )
        case .cancelled:
            queue.finish(.abandoned)
            for key in keys { try await interrupt(key, because: "the mission stopped while landing") }
        case .error(let message):
            queue.finish(.abandoned)
            for key in keys { try await interrupt(key, because: message) }
            fatal = message
        }
    }
}
