import FlotillaCore
import Foundation

/// `flotilla land ID --onto BRANCH`: the completed mission's verified result brought onto a branch of the user's.
extension MissionRunner {
    /// Fast-forwards `branch` to the result, or merges the result into it, after the verify passed on exactly the
    /// commit the branch will point at; refuses (recorded, and thrown) on a conflict, a failed verify, a branch that
    /// moved meanwhile, or uncommitted changes where the branch is checked out.
    package func land(_ id: MissionID, onto branch: String) async throws -> LandingOnto {
        guard let record = try await ports.ledger.mission(id) else {
            throw FlotillaError.notFound("no mission \(id) in this repository's ledger (see `flotilla list`)")
        }
        guard record.state == .completed else {
            throw FlotillaError.conflict(
                "mission \(id) is \(record.state.rawValue); only a completed mission's verified result lands "
                    + "(see `flotilla status \(id)`)"
            )
        }
        let spec = record.spec
        let git = ports.git
        let result =
            try await ports.ledger.attempts(of: id).filter { $0.outcome == .landed }
            .max { ($0.finishedAt ?? .distantPast) < ($1.finishedAt ?? .distantPast) }?.landedCommit ?? spec.baseCommit
        guard let from = try await git.resolveCommit("refs/heads/\(branch)") else {
            throw FlotillaError.invalid("there is no branch \(branch) in this repository (--onto names a local branch)")
        }
        let control = self.control
        func refuse(_ commit: String?, _ how: String, _ why: String) async throws -> Never {
            let landing = LandingOnto(branch: branch, from: from, commit: commit, how: how, refusal: why)
            try await control.record(.landedOnto(landing), mission: id)
            throw FlotillaError.conflict("not landed on \(branch): \(why)")
        }
        if try await git.commits(from: from, to: result).isEmpty {
            let landing = LandingOnto(branch: branch, from: from, commit: from, how: "already")
            try await control.record(.landedOnto(landing), mission: id)
            return landing
        }
        let checkedOut = try await git.currentBranch() == branch
        if checkedOut {
            let changed = try await git.uncommittedPaths().filter { !$0.hasPrefix(".flotilla") }
            if !changed.isEmpty {
                try await refuse(
                    nil,
                    "none",
                    "\(branch) is checked out with uncommitted changes (\(changed.prefix(5).joined(separator: ", ")))"
                        + "; commit or stash them first"
                )
            }
        }
        var candidate = result
        var how = "fast-forward"
        if try await !git.commits(from: result, to: from).isEmpty {
            switch try await git.mergeTree(ours: from, theirs: result) {
            case .conflicted(let files, _):
                try await refuse(
                    nil,
                    "merge",
                    "the result conflicts with \(branch) in \(files.joined(separator: ", "))"
                )
            case .clean(let tree):
                how = "merge"
                candidate = try await git.commitTree(
                    tree,
                    parents: [from, result],
                    message: "Land mission \(id): \(spec.goal)\n\nFlotilla-Mission: \(id)\n",
                    author: .flotilla
                )
            }
        }
        // The verify runs on exactly the commit the branch will point at, in a checkout of its own, judged against the
        // base's tests as every run of the mission was.
        let gate = try await gate(for: spec)
        let baseline = try await testBaseline(spec, gate: gate)
        let checkout = layout.stagingWorktree(id)
        try await control.checkout(candidate, into: checkout, mission: id, judging: true)
        let verification = try await gate.judging(against: baseline).verify(
            kind: .final,
            attempt: nil,
            commit: candidate,
            in: checkout,
            groups: spec.checklist.groupIDs,
            logPath: layout.finalVerifyLog(id)
        )
        try? git.removeCheckout(checkout, index: layout.index(id, of: checkout))
        try await control.record(.finalVerifyFinished(verification), mission: id)
        guard verification.passed else {
            try await refuse(
                candidate,
                how,
                "the verify failed on \(candidate.shortSHA) (\(how == "merge" ? "\(branch) merged with the result" : "the result")): "
                    + Feedback.headline(verification)
            )
        }
        guard try await git.updateRef("refs/heads/\(branch)", to: candidate, expecting: from) else {
            try await refuse(candidate, how, "\(branch) moved while the verify ran; run `flotilla land` again")
        }
        if checkedOut { try await git.advanceWorkingTree(from: from, to: candidate) }
        let landing = LandingOnto(branch: branch, from: from, commit: candidate, how: how)
        try await control.record(.landedOnto(landing), mission: id)
        return landing
    }
}
