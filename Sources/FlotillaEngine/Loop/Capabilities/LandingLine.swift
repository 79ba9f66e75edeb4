import FlotillaCore
import Foundation

/// The merge queue and the target branch: verified candidates land one round at a time, each merged onto the head
/// Flotilla's last landing left, regression-verified on exactly that commit, recorded, and only then moved to.
struct LandingLine: LoopCapability {
    var queue: MergeQueue<MergeCandidate>
    /// Where Flotilla's own landings put the target branch, never what the branch says: anyone may write a ref.
    var targetHead: String
    var targetTree: String
    /// The groups on the target, in the order they landed: a regression verify checks them again.
    var landedGroups: [String]

    var inFlight: Int { queue.count }
    var heldGroups: [String] { (queue.pending + (queue.landing ?? [])).map(\.key.group) }

    /// Starts the next round the queue gives, if none is landing.
    mutating func tick(_ view: LoopView) -> [LoopAction] {
        guard !view.failed, !view.stopRequested, view.stopping == nil, let batch = queue.nextRound() else { return [] }
        let keys = batch.map(\.key)
        return [
            .record(.mergeStarted(keys, targetHead: targetHead), checkpoint: "merge.started"),
            .mark(.mergeStarting(keys)),
            .spawn(
                MergeVerification(
                    mission: view.spec,
                    candidates: batch,
                    head: targetHead,
                    headTree: targetTree,
                    landedGroups: landedGroups
                )
            ),
        ]
    }

    mutating func on(_ event: LoopEvent, _ view: LoopView) -> [LoopAction] {
        switch event {
        case .enqueue(let candidate):
            queue.enqueue(candidate)
            return [.mark(.queued(candidate.key))]
        case .mergeVerified(let round):
            guard view.stopping == nil, case .landed(let commit, _, let regression) = round.outcome else {
                return abandon(round, view)
            }
            // Recorded before the branch moves: whatever happens next, the branch only ever points at a commit whose
            // passing verification is in the ledger.
            return [
                .record(
                    .landingVerified(round.included.map(\.key), commit: commit, regression: regression),
                    checkpoint: "merge.verified"
                ),
                .spawn(TargetMove(mission: view.spec, round: round, head: targetHead)),
            ]
        case .targetRestored(let change):
            return [.record(change)]
        case .mergeEnded(let round):
            return finish(round, view)
        default:
            return []
        }
    }

    /// The mission stops: what waits in the queue ends.
    mutating func stop(_ reason: StopReason, _ view: LoopView) -> [LoopAction] {
        queue.drain().map { .conclude($0.key, .interrupted(Feedback.stopped(reason))) }
    }

    /// Records what a landing round did: landings, conflicts, candidates to try again, and failures.
    private mutating func finish(_ original: MergeRound, _ view: LoopView) -> [LoopAction] {
        var round = original
        if let reason = view.stopping {
            // A landing that completed stays landed; anything else of the round is interrupted.
            guard case .landed = round.outcome else { return abandon(round, view) }
            let deferred = round.deferred.map { LoopAction.conclude($0.key, .interrupted(Feedback.stopped(reason))) }
            round.deferred = []
            return deferred + settle(round)
        }
        return settle(round)
    }

    private mutating func settle(_ round: MergeRound) -> [LoopAction] {
        var actions: [LoopAction] = []
        for (candidate, files, messages) in round.conflicts {
            actions.append(.notify(.conflicted(group: candidate.key.group, files: files)))
            let ending = AttemptEnding(
                outcome: .conflict,
                reason: "conflicts with landed work in \(files.joined(separator: ", "))",
                feedback: Feedback.conflict(files: files, messages: messages),
                criteria: candidate.criteria
            )
            actions.append(.conclude(candidate.key, ending))
        }
        if !round.deferred.isEmpty {
            actions.append(
                .record(
                    .mergeRequeued(
                        round.deferred.map(\.key),
                        reason: "conflicts with another candidate of the same landing; tries again in the next one",
                        verification: nil
                    )
                )
            )
            queue.putBack(round.deferred)
        }
        let keys = round.included.map(\.key)
        switch round.outcome {
        case .nothingToLand:
            queue.finish(.landed)
        case .landed(let commit, let tree, let regression):
            queue.finish(.landed)
            targetHead = commit
            targetTree = tree
            landedGroups += keys.map(\.group)
            actions += [
                .record(
                    .attemptsLanded(keys, landedCommit: commit, regression: regression),
                    checkpoint: "merge.landed"
                ),
                .notify(.landed(keys, head: commit)),
            ]
        case .regression(let verification):
            guard let culprit = queue.finish(.failed(included: round.included)) else {
                // Bisect: the halves are tried apart, until the candidate that breaks things is alone.
                actions.append(
                    .record(
                        .mergeRequeued(
                            keys,
                            reason: "their landing failed its regression verify (\(Feedback.headline(verification))); "
                                + "trying them apart",
                            verification: verification
                        )
                    )
                )
                return actions
            }
            actions.append(.notify(.regressed(culprit, verification)))
        case .cancelled:
            queue.finish(.abandoned)
            actions += keys.map { .conclude($0, .interrupted("the mission stopped while landing")) }
        case .error(let message):
            queue.finish(.abandoned)
            actions += keys.map { .conclude($0, .interrupted(message)) }
            actions.append(.fail(message))
        }
        return actions
    }

    /// A round that will not land because the mission stopped: each of its candidates is interrupted.
    private mutating func abandon(_ round: MergeRound, _ view: LoopView) -> [LoopAction] {
        queue.finish(.abandoned)
        let reason = Feedback.stopped(view.stopping ?? .stopped)
        let candidates = round.included + round.deferred + round.conflicts.map(\.candidate)
        return candidates.map { .conclude($0.key, .interrupted(reason)) }
    }
}

extension LandingLine {
    init(_ snapshot: MissionSnapshot) {
        var queue = MergeQueue<MergeCandidate>(batchSize: snapshot.spec.options.mergeBatchSize)
        let asked = Set(snapshot.approvals.compactMap(\.attempt))
        for candidate in snapshot.queued where !asked.contains(candidate.key) { queue.enqueue(candidate) }
        self.init(
            queue: queue,
            targetHead: snapshot.targetHead,
            targetTree: snapshot.targetTree,
            landedGroups: snapshot.groups.filter { $0.status == .done }.map(\.id)
        )
    }
}
