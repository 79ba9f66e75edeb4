import FlotillaCore
import Foundation

/// An attempt whose gate passed, waiting to land.
struct MergeCandidate: Sendable, Equatable {
    var key: AttemptKey
    var commit: String
    var criteriaPassed: Int?
}

/// What one landing round did with its candidates.
struct MergeRound: Sendable {
    enum Outcome: Sendable {
        /// The candidates in `included` landed together as `commit`.
        case landed(commit: String, tree: String, regression: Verification)
        /// The merged commit of `included` failed its regression verify; nothing moved.
        case regression(Verification)
        /// Every candidate conflicted with the head: there was nothing to verify.
        case nothingToLand
        case cancelled
        case error(String)
    }

    /// Candidates that conflict with the target head itself.
    var conflicts: [(candidate: MergeCandidate, files: [String], messages: String)] = []
    /// Candidates that only conflict with others of the same round: they try again in the next one.
    var deferred: [MergeCandidate] = []
    /// Candidates merged into the commit that was verified.
    var included: [MergeCandidate] = []
    var outcome = Outcome.nothingToLand
}

/// One landing round: merge the candidates onto the current target head without a working tree, squash them into
/// one commit, regression-verify that exact commit in the staging worktree, then move the target branch by
/// compare-and-swap.
///
/// The loop runs one round at a time, so every landing is verified on top of the previous one. A round of one
/// candidate gives one commit per group; several waiting candidates share one verify, which the loop splits in
/// halves when it fails, until the candidate that breaks things is alone.
struct MergeExecution: Sendable {
    static let compareAndSwapRetries = 3

    let mission: MissionSpec
    let candidates: [MergeCandidate]
    /// The target head and its tree as the loop knows them; a compare-and-swap notices if someone moved it.
    let head: String
    let headTree: String
    /// Groups landed before this round; the regression verify checks them together with the candidates' groups.
    let landedGroups: [String]
    let context: EngineContext

    func run() async -> MergeRound {
        var round = MergeRound()
        do {
            try await execute(&round)
        } catch {
            round.outcome = Task.isCancelled || error is CancellationError ? .cancelled : .error("landing: \(error)")
        }
        return round
    }

    private func execute(_ round: inout MergeRound) async throws {
        let git = context.git
        // Stack the candidates: each merges onto the previous result (intermediate commits stay unreferenced).
        var stack = head
        var tree = headTree
        for candidate in candidates {
            switch try await git.mergeTree(ours: stack, theirs: candidate.commit) {
            case .conflicted(let files, let messages):
                if round.included.isEmpty {
                    round.conflicts.append((candidate, files, messages))
                } else {
                    round.deferred.append(candidate)
                }
            case .clean(let merged):
                round.included.append(candidate)
                tree = merged
                if candidates.count > 1 {
                    stack = try await git.commitTree(merged, parents: [stack], message: "stack", author: .flotilla)
                }
            }
        }
        guard !round.included.isEmpty else { return }
        context.probe?.mark(.checkpoint("merge.tree-written"))
        // The work may already be on the target (agents that changed nothing): verify the head itself.
        var landing = head
        if tree != headTree {
            landing = try await git.commitTree(
                tree,
                parents: [head],
                message: message(round.included),
                author: .flotilla
            )
        }
        let staging = context.layout.stagingWorktree(mission.id)
        try await context.checkout(landing, into: staging, mission: mission.id)
        let first = round.included[0].key
        let verification = try await context.gate.verify(
            kind: .regression,
            attempt: first,
            commit: landing,
            in: staging,
            groups: round.included.map(\.key.group),
            alsoLanded: landedGroups,
            logPath: context.layout.gateLog(mission.id, first, .regression)
        )
        try Task.checkCancellation()
        guard verification.passed else {
            round.outcome = .regression(verification)
            return
        }
        // The verify is recorded before the branch moves: whatever happens next, the branch only ever points at
        // a commit whose passing verification is in the ledger.
        try await context.record(
            .landingVerified(round.included.map(\.key), commit: landing, regression: verification),
            mission: mission.id
        )
        context.probe?.mark(.checkpoint("merge.verified"))
        for _ in 0..<Self.compareAndSwapRetries {
            let moved =
                landing == head
                ? true : try await git.updateRef(mission.targetBranch, to: landing, expecting: head)
            if moved {
                context.probe?.mark(.checkpoint("merge.ref-updated"))
                round.outcome = .landed(commit: landing, tree: tree, regression: verification)
                return
            }
            // Someone else moved the target branch while this landing was verified: it is put back, never merged
            // onto, and the verified landing moves it.
            try await TargetGuard(spec: mission, context: context.control).ensure(at: head, reason: "while landing")
        }
        round.outcome = .error(
            "the target branch \(mission.targetBranch) kept moving while landing; is something else writing to it?"
        )
    }

    private func message(_ unordered: [MergeCandidate]) -> String {
        // Groups in checklist order, whatever order their gates passed in.
        let position = Dictionary(uniqueKeysWithValues: mission.checklist.groupIDs.enumerated().map { ($1, $0) })
        let included = unordered.sorted { position[$0.key.group, default: 0] < position[$1.key.group, default: 0] }
        let groups = included.compactMap { mission.checklist.group($0.key.group) }
        var lines: [String]
        if included.count == 1, let group = groups.first {
            lines = [
                group.title, "",
                "Lands group `\(group.id)` of Flotilla mission \(mission.id) (attempt \(included[0].key.number)).", "",
            ]
            if !group.criteria.isEmpty {
                lines.append("Criteria:")
                lines += group.criteria.map { "- \($0)" }
                lines.append("")
            }
        } else {
            lines = [
                "Land \(included.count) groups: " + included.map(\.key.group).joined(separator: ", "), "",
                "Lands, verified together, these groups of Flotilla mission \(mission.id):",
            ]
            lines += groups.map { "- `\($0.id)` — \($0.title)" }
            lines.append("")
        }
        lines.append("Flotilla-Mission: \(mission.id)")
        for candidate in included {
            lines.append("Flotilla-Group: \(candidate.key.group)")
            lines.append("Flotilla-Attempt: \(candidate.key)")
            lines.append("Flotilla-Source: \(candidate.commit)")
        }
        return lines.joined(separator: "\n")
    }
}
