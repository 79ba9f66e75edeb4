import FlotillaCore
import Foundation

/// Fixups for integration failures (on unless `--no-fixups`).
///
/// A candidate that passed its gate alone but failed its regression verify, merged with work that landed after it
/// started, is not simply tried again from the new head: the group's next attempt starts from that merged commit,
/// with both changes and the failure in its prompt. One try: a fixup that fails the same way is followed by an attempt
/// from the head, in case the candidate's own change is what breaks.
struct FixupPlanner: LoopCapability {
    let enabled: Bool
    /// Where a group's next attempt starts when it is a fixup: the merged commit that failed its regression verify.
    var bases: [String: String] = [:]
    /// The attempts that started from such a merge.
    var fixups: Set<AttemptKey> = []
    /// Candidates whose fixup brief is being written.
    var briefing: [AttemptKey] = []

    var inFlight: Int { briefing.count }
    var heldGroups: [String] { briefing.map(\.group) }

    func shape(_ plan: inout DispatchPlan, _ view: LoopView) {
        guard let base = bases[plan.group] else { return }
        plan.startCommit = base
        plan.isFixup = true
    }

    mutating func on(_ event: LoopEvent, _ view: LoopView) -> [LoopAction] {
        switch event {
        case .dispatching(let plan):
            guard bases.removeValue(forKey: plan.group) != nil else { return [] }
            fixups.formUnion(plan.keys)
            return []
        case .regressed(let candidate, let verification):
            // Not an integration failure when nothing landed since the candidate started.
            guard enabled, view.stopping == nil, !fixups.contains(candidate.key),
                candidate.startCommit != view.targetHead
            else { return [.conclude(candidate.key, Self.regression(candidate, verification, fixup: false))] }
            briefing.append(candidate.key)
            return [.spawn(FixupBrief(candidate: candidate, verification: verification, head: view.targetHead))]
        case .fixupBriefed(let candidate, let verification, let brief):
            briefing.removeAll { $0 == candidate.key }
            guard let brief, view.stopping == nil else {
                return [.conclude(candidate.key, Self.regression(candidate, verification, fixup: false))]
            }
            bases[candidate.key.group] = verification.commit
            var ending = Self.regression(candidate, verification, fixup: true)
            ending.feedback = brief
            return [.conclude(candidate.key, ending)]
        default:
            return []
        }
    }

    /// How a candidate that broke landed groups ends.
    static func regression(_ candidate: MergeCandidate, _ verification: Verification, fixup: Bool) -> AttemptEnding {
        AttemptEnding(
            outcome: .regression,
            reason: "breaks landed groups: regression verify of \(verification.commit.shortSHA) failed, "
                + Feedback.headline(verification)
                + (fixup ? "; the next attempt is a fixup from \(verification.commit.shortSHA)" : ""),
            feedback: Feedback.regression(verification),
            criteria: candidate.criteria,
            verification: verification
        )
    }
}

/// Writes a fixup's brief: both changes since the candidate started, and the failure.
struct FixupBrief: ChildWork {
    let candidate: MergeCandidate
    let verification: Verification
    let head: String

    func run(in environment: LoopEnvironment, tell: @escaping @Sendable (LoopEvent) -> Void) async -> LoopEvent {
        let git = environment.context.git
        let own = (try? await git.diff(from: candidate.startCommit, to: candidate.commit)) ?? ""
        let landed = (try? await git.diff(from: candidate.startCommit, to: head)) ?? ""
        if Task.isCancelled { return .fixupBriefed(candidate, verification, brief: nil) }
        return .fixupBriefed(candidate, verification, brief: Feedback.fixup(verification, own: own, landed: landed))
    }
}
