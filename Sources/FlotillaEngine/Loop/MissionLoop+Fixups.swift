import FlotillaCore
import Foundation

/// Fixups for integration failures (on unless `--no-fixups`): a candidate that passed its gate alone but failed its
/// regression verify merged with work that landed after it started is not simply tried again from the new head; the
/// group's next attempt starts from that merged commit, with both changes and the failure in its prompt.
extension MissionLoop {
    /// The feedback for a fixup, having set the group's next start to the failed merge; nil when the failure is not an
    /// integration failure (nothing landed since the candidate started), when the candidate was itself a fixup (one
    /// try from a failed merge: the next starts from the head, in case the candidate's own change is what breaks), or
    /// when fixups are off.
    mutating func prepareFixup(_ candidate: MergeCandidate, _ verification: Verification) async throws -> String? {
        guard spec.options.fixups != false, !fixupAttempts.contains(candidate.key),
            let attempt = try await context.ledger.attempts(of: spec.id).first(where: { $0.key == candidate.key }),
            attempt.startCommit != targetHead
        else { return nil }
        let own = (try? await context.git.diff(from: attempt.startCommit, to: candidate.commit)) ?? ""
        let landed = (try? await context.git.diff(from: attempt.startCommit, to: targetHead)) ?? ""
        fixupBases[candidate.key.group] = verification.commit
        return Feedback.fixup(verification, own: own, landed: landed)
    }
}
