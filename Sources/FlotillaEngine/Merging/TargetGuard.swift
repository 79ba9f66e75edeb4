import FlotillaCore
import Foundation

/// The target branch is Flotilla's: only its landings move it.
///
/// Every landing's compare-and-swap compares the branch with the head Flotilla last put there (landings merge onto that
/// head, never onto the branch as found), and so does every run at its start, before the final verify and at its end.
/// If anyone else moved (or deleted) it, it is put back, the event recorded, and the foreign commit kept under
/// `refs/flotilla/quarantine/<mission>/`, so nothing is lost and nothing unverified is merged onto or reported.
struct TargetGuard {
    static let attempts = 3

    let spec: MissionSpec
    let git: any GitRepository

    /// Makes sure the target branch is at `expected`, putting it back if anything else moved it.
    ///
    /// `reason` says when it was checked, for the record. Returns the change that records a restoration, for the
    /// caller to record; nil when the branch was where expected.
    func ensure(at expected: String, reason: String) async throws -> LedgerChange? {
        let ref = "refs/heads/\(spec.targetBranch)"
        for _ in 0..<Self.attempts {
            let current = try await git.resolveCommit(ref)
            if current == expected { return nil }
            let foreign = current ?? "0000000000000000000000000000000000000000"
            let quarantine = "refs/flotilla/quarantine/\(spec.id)/\(foreign.shortSHA)"
            if let current {
                _ = try await git.updateRef(quarantine, to: current, expecting: String(repeating: "0", count: 40))
            }
            let restored: Bool
            if let current {
                restored = try await git.updateRef(ref, to: expected, expecting: current)
            } else {
                try await git.createBranch(spec.targetBranch, at: expected, force: false)
                restored = true
            }
            guard restored else { continue }
            return .refsRestored(
                [
                    RefRestoration(
                        ref: ref,
                        foreign: foreign,
                        restoredTo: expected,
                        quarantine: current == nil ? "(it had been deleted)" : quarantine
                    )
                ],
                reason: "the target branch had been moved by something other than Flotilla, found \(reason)"
            )
        }
        throw FlotillaError.conflict(
            "the target branch \(spec.targetBranch) keeps moving away from \(expected.shortSHA); something other than "
                + "Flotilla is writing to it — stop it, then `flotilla resume \(spec.id)`"
        )
    }
}
